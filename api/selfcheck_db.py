"""Enterprises and their saved self-check reports (with history), in the app's database.

The tables are declared on api/db.py's `Base`, so `ChatDatabase.create_all` creates them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from api.db import Base, as_utc
from api.ownership import ENTERPRISE_OWNER_NAME
from api.principal import LOCAL_OWNER


def _now() -> datetime:
    return datetime.now(UTC)


class Enterprise(Base):
    """An enterprise as one owner (API key owner) knows it: names are unique per owner."""

    __tablename__ = "enterprises"
    __table_args__ = (Index(ENTERPRISE_OWNER_NAME, "owner", "name", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(100), default=LOCAL_OWNER, server_default=LOCAL_OWNER, index=True)
    code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 统一社会信用代码
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SelfCheckRecord(Base):
    __tablename__ = "self_check_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(100), default=LOCAL_OWNER, server_default=LOCAL_OWNER, index=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class UnknownSelfCheckError(KeyError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"未找到自查记录 {self.key}"


@dataclass(frozen=True)
class SavedSelfCheck:
    id: str
    enterprise_name: str
    enterprise_code: str | None
    profile: dict[str, Any]
    answers: dict[str, str]
    report: dict[str, Any]
    created_at: datetime


class SelfCheckStore:
    """One owner's enterprises and reports: another owner's report is reported as missing."""

    def __init__(self, engine: Engine, owner: str = LOCAL_OWNER):
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.owner = owner

    def save(self, name: str, code: str | None, profile: dict, answers: dict, report: dict) -> SavedSelfCheck:
        """Store a report under the enterprise (created on first use; a code given later is kept)."""
        with self._sessions.begin() as s:
            enterprise = s.scalar(select(Enterprise).where(Enterprise.owner == self.owner, Enterprise.name == name))
            if enterprise is None:
                enterprise = Enterprise(name=name, code=code or None, owner=self.owner)
                s.add(enterprise)
                s.flush()
            elif code and enterprise.code != code:
                enterprise.code = code
            record = SelfCheckRecord(id=uuid.uuid4().hex, enterprise_id=enterprise.id, owner=self.owner, profile=profile,
                                     answers=answers, report=report, created_at=_now())
            s.add(record)
            return self._saved(record, enterprise)

    def get(self, report_id: str) -> SavedSelfCheck:
        with self._sessions() as s:
            record = s.get(SelfCheckRecord, report_id)
            if record is None or record.owner != self.owner:
                raise UnknownSelfCheckError(report_id)
            return self._saved(record, s.get(Enterprise, record.enterprise_id))

    def delete(self, report_id: str) -> None:
        """Delete one of the owner's reports (the enterprise and its other reports stay)."""
        with self._sessions.begin() as s:
            record = s.get(SelfCheckRecord, report_id)
            if record is None or record.owner != self.owner:
                raise UnknownSelfCheckError(report_id)
            s.delete(record)

    def history(self, name: str) -> list[SavedSelfCheck]:
        """The enterprise's reports, newest first (empty for an enterprise never seen)."""
        with self._sessions() as s:
            enterprise = s.scalar(select(Enterprise).where(Enterprise.owner == self.owner, Enterprise.name == name))
            if enterprise is None:
                return []
            rows = s.scalars(select(SelfCheckRecord).where(SelfCheckRecord.enterprise_id == enterprise.id)
                             .order_by(SelfCheckRecord.created_at.desc(), SelfCheckRecord.id)).all()
            return [self._saved(r, enterprise) for r in rows]

    @staticmethod
    def _saved(record: SelfCheckRecord, enterprise: Enterprise) -> SavedSelfCheck:
        return SavedSelfCheck(record.id, enterprise.name, enterprise.code, dict(record.profile or {}),
                              dict(record.answers or {}), dict(record.report or {}), as_utc(record.created_at))
