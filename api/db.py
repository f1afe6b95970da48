"""Conversation state in SQLAlchemy: sessions and their messages, surviving restarts.

SQLite (a file in the data directory) by default; any SQLAlchemy URL through HAZARD_DATABASE_URL
(PostgreSQL for several API workers). The API and `hazard chat` share `take_turn`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

from assistant.classifier import Profile
from assistant.dialogue import Dialogue, Reply, Turn


def _now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class ChatSession(Base):
    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The API key owner it belongs to (api/ownership.py adds the column to older databases).
    owner: Mapped[str] = mapped_column(String(100), default="local", server_default="local", index=True)
    messages: Mapped[list["ChatMessage"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="ChatMessage.seq")


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # assistant turns only
    searched_query: Mapped[str | None] = mapped_column(Text, nullable=True)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What routing the next turn needs (topic, thread, label, questions) and the classification JSON.
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    session: Mapped[ChatSession] = relationship(back_populates="messages")


class UnknownSessionError(KeyError):
    def __init__(self, session_id: str):
        super().__init__(session_id)
        self.session_id = session_id

    def __str__(self) -> str:
        return f"未找到会话 {self.session_id}（可能已删除）/ unknown session"


@dataclass(frozen=True)
class StoredMessage:
    role: str
    text: str
    kind: str | None
    searched_query: str | None
    citations: list[dict[str, Any]]
    classification: dict[str, Any] | None
    created_at: datetime


def citation_json(citation) -> dict[str, Any]:
    """A citation as the API and the database carry it (built by `store.citation`)."""
    return {"clause_id": citation.clause_id, "citation": citation.citation, "document_title": citation.document_title,
            "doc_number": citation.doc_number, "article": citation.article, "item": citation.item,
            "sub_item": citation.sub_item, "quote": citation.quote}


class ChatDatabase:
    def __init__(self, url: str, timeout: float | None = None):
        from api.db_health import engine_options

        self.url = url
        parsed = make_url(url)
        # Timeouts (connect, statement, pool) so an unreachable server is a quick 503.
        kwargs: dict[str, Any] = {"future": True, **engine_options(parsed, timeout)}
        if parsed.get_backend_name() == "sqlite":
            # FastAPI runs sync routes in a thread pool.
            kwargs["connect_args"] = {"check_same_thread": False}
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, **kwargs)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            from api.db_health import tune_sqlite

            tune_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_all(self) -> None:
        from api.db_health import schema_lock
        from api.ownership import add_owner_columns

        with schema_lock(self.engine):  # workers starting together on one PostgreSQL
            Base.metadata.create_all(self.engine)
            add_owner_columns(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- sessions --------------------------------------------------------------------------
    def new_session(self, profile: Profile | None = None, owner: str = "local") -> str:
        sid = uuid.uuid4().hex
        with self._sessions.begin() as s:
            s.add(ChatSession(id=sid, profile=_profile_json(profile), owner=owner))
        return sid

    def check_owner(self, session_id: str, owner: str) -> None:
        """UnknownSessionError unless the session exists and is `owner`'s: another owner's session
        is indistinguishable from a missing one."""
        with self._sessions() as s:
            if self._get(s, session_id).owner != owner:
                raise UnknownSessionError(session_id)

    def exists(self, session_id: str) -> bool:
        with self._sessions() as s:
            return s.get(ChatSession, session_id) is not None

    def profile(self, session_id: str) -> Profile:
        with self._sessions() as s:
            row = self._get(s, session_id)
            data = row.profile or {}
            return Profile(data.get("industry", ""), tuple(data.get("domains") or ()))

    def session_times(self, session_id: str) -> tuple[datetime, datetime]:
        with self._sessions() as s:
            row = self._get(s, session_id)
            return as_utc(row.created_at), as_utc(row.updated_at)

    def delete(self, session_id: str) -> None:
        with self._sessions.begin() as s:
            s.delete(self._get(s, session_id))

    # -- messages --------------------------------------------------------------------------
    def messages(self, session_id: str) -> list[StoredMessage]:
        with self._sessions() as s:
            self._get(s, session_id)
            rows = s.scalars(select(ChatMessage).where(ChatMessage.session_id == session_id)
                             .order_by(ChatMessage.seq, ChatMessage.id)).all()
            return [StoredMessage(r.role, r.text, r.kind, r.searched_query, list(r.citations or []),
                                  (r.meta or {}).get("classification"), as_utc(r.created_at)) for r in rows]

    def turns(self, session_id: str) -> list[Turn]:
        """The session's history as `assistant.dialogue.route` reads it."""
        with self._sessions() as s:
            self._get(s, session_id)
            rows = s.scalars(select(ChatMessage).where(ChatMessage.session_id == session_id)
                             .order_by(ChatMessage.seq, ChatMessage.id)).all()
            out = []
            for r in rows:
                meta = r.meta or {}
                out.append(Turn(r.role, r.text, r.kind, query=r.searched_query or "", topic=meta.get("topic", ""),
                                thread=meta.get("thread", ""), label=meta.get("label", ""),
                                questions=tuple(meta.get("questions") or ()),
                                clause_ids=tuple(c["clause_id"] for c in r.citations or [])))
            return out

    def record(self, session_id: str, message: str, reply: Reply, classification: dict | None = None,
               profile: Profile | None = None) -> tuple[datetime, datetime]:
        """Store the user's message and the reply; returns their creation times."""
        with self._sessions.begin() as s:
            row = self._get(s, session_id)
            last = s.scalar(select(func.max(ChatMessage.seq)).where(ChatMessage.session_id == session_id)) or 0
            asked, answered = _now(), _now()
            turn = reply.turn()
            meta = {"topic": turn.topic, "thread": turn.thread, "label": turn.label,
                    "questions": list(turn.questions), "route": reply.route.action, "reason": reply.route.reason}
            if classification is not None:
                meta["classification"] = classification
            s.add(ChatMessage(session_id=session_id, seq=last + 1, role="user", text=message, kind=None,
                              searched_query=None, citations=[], meta={}, created_at=asked))
            s.add(ChatMessage(session_id=session_id, seq=last + 2, role="assistant", text=reply.text,
                              kind=reply.kind, searched_query=reply.searched_query,
                              citations=[citation_json(c) for c in reply.citations], meta=meta, created_at=answered))
            row.updated_at = answered
            if profile is not None and (profile.industry or profile.domains):
                row.profile = _profile_json(profile)
            return asked, answered

    @staticmethod
    def _get(s, session_id: str) -> ChatSession:
        row = s.get(ChatSession, session_id)
        if row is None:
            raise UnknownSessionError(session_id)
        return row


def _profile_json(profile: Profile | None) -> dict[str, Any]:
    if profile is None:
        return {}
    return {"industry": profile.industry, "domains": list(profile.domains)}


@dataclass
class TurnResult:
    session_id: str
    reply: Reply
    classification: dict | None
    # What the turn was answered with (the audit log records them for `hazard replay`).
    history: list[Turn] = field(default_factory=list)
    profile: Profile | None = None


def take_turn(db: ChatDatabase, dialogue: Dialogue, session_id: str | None, message: str,
              profile: Profile | None = None, owner: str | None = None) -> TurnResult:
    """One exchange: open (or start) the session, route and answer with its history, store both
    messages. A profile given here sticks to the session; without one the session's own is used.
    With an `owner` (the API), only that owner's session can be continued and a new one is theirs;
    without (the local CLI), any session, and new ones belong to "local"."""
    from api.contracts import decision_json

    given = profile if profile is not None and (profile.industry or profile.domains) else None
    if session_id is None:
        history, session_profile = [], None
    else:
        if owner is not None:
            db.check_owner(session_id, owner)
        history = db.turns(session_id)  # UnknownSessionError for an unknown ID
        session_profile = db.profile(session_id)
    reply = dialogue.reply(message, history, given or session_profile)  # InputError: nothing is stored
    classification = decision_json(dialogue.classifier, reply.decision) if reply.decision is not None else None
    if session_id is None:
        session_id = db.new_session(given, owner or "local")
    db.record(session_id, message, reply, classification, given)
    return TurnResult(session_id, reply, classification, history, given or session_profile)


# Tables declared elsewhere on `Base`, imported here so that `create_all` creates them.
import api.selfcheck_db  # noqa: E402, F401
import api.keys  # noqa: E402, F401
import api.audit  # noqa: E402, F401
import api.ratelimit_db  # noqa: E402, F401
