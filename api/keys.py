"""API keys: random bearer tokens stored only as SHA-256 hashes, each with a name, role and owner.

A key is `hz_` + 32 random bytes (URL-safe base64). With that much entropy a fast hash is enough:
nobody can brute-force a preimage, so no slow password KDF is needed. The table lives in the app's
database (api/db.py's `Base`), so every API worker sees a revocation at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from api.db import Base, as_utc
from api.principal import ROLES, Principal

KEY_PREFIX = "hz_"
_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,100}$")  # no spaces or control characters
ROLE_NAMES_ZH = {"inspector": "监管执法人员", "enterprise": "企业", "trainer": "培训讲师", "admin": "管理员"}


def _now() -> datetime:
    return datetime.now(UTC)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKeyRecord(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class KeyAdminError(ValueError):
    """A key cannot be created or revoked as asked; the message is Chinese, for the user."""


@dataclass(frozen=True)
class ApiKeyInfo:
    """What may be shown about a key: everything except the key."""

    name: str
    owner: str
    role: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict:
        return {"name": self.name, "owner": self.owner, "role": self.role,
                "created_at": self.created_at.isoformat(timespec="seconds"),
                "revoked_at": self.revoked_at.isoformat(timespec="seconds") if self.revoked_at else None}


@dataclass(frozen=True)
class KeyCheck:
    """The outcome of presenting a key: a principal, or why not ("unknown" | "revoked")."""

    principal: Principal | None
    problem: str = ""


class KeyStore:
    def __init__(self, engine: Engine):
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, name: str, role: str, owner: str = "") -> tuple[str, ApiKeyInfo]:
        """A new key for `role`; returns the key itself (shown once, never stored) and its record.
        `owner` defaults to the name; give an existing owner to hand a person a replacement key."""
        name, owner = name.strip(), (owner or name).strip()
        if role not in ROLES:
            raise KeyAdminError(f"未知角色“{role}”，可选：{'、'.join(ROLES)}")
        for label, value in (("名称", name), ("所有者", owner)):
            if not _NAME.match(value):
                raise KeyAdminError(f"{label}须为 1–100 个字符，且不含空格或控制字符")
        key = new_key()
        try:
            with self._sessions.begin() as s:
                if s.scalar(select(ApiKeyRecord.id).where(ApiKeyRecord.name == name)) is not None:
                    raise KeyAdminError(f"名称“{name}”已被使用（含已吊销的密钥），请换一个名称")
                record = ApiKeyRecord(name=name, owner=owner, role=role, key_hash=hash_key(key), created_at=_now())
                s.add(record)
                s.flush()
                return key, _info(record)
        except IntegrityError:  # a concurrent create with the same name
            raise KeyAdminError(f"名称“{name}”已被使用，请换一个名称") from None

    def all(self) -> list[ApiKeyInfo]:
        with self._sessions() as s:
            return [_info(r) for r in s.scalars(select(ApiKeyRecord).order_by(ApiKeyRecord.created_at,
                                                                              ApiKeyRecord.id))]

    def revoke(self, name: str) -> tuple[ApiKeyInfo, bool]:
        """Revoke the key called `name`; returns it and whether it was active until now."""
        with self._sessions.begin() as s:
            record = s.scalar(select(ApiKeyRecord).where(ApiKeyRecord.name == name.strip()))
            if record is None:
                raise KeyAdminError(f"没有名为“{name}”的密钥（hazard keys list 可查看全部密钥）")
            was_active = record.revoked_at is None
            if was_active:
                record.revoked_at = _now()
            return _info(record), was_active

    def has_active(self) -> bool:
        with self._sessions() as s:
            return s.scalar(select(ApiKeyRecord.id).where(ApiKeyRecord.revoked_at.is_(None)).limit(1)) is not None

    def check(self, presented: str) -> KeyCheck:
        """Who holds `presented`: looked up by its hash, then compared in constant time."""
        digest = hash_key(presented)
        with self._sessions() as s:
            record = s.scalar(select(ApiKeyRecord).where(ApiKeyRecord.key_hash == digest))
        if record is None or not hmac.compare_digest(record.key_hash, digest):
            return KeyCheck(None, "unknown")
        if record.revoked_at is not None:
            return KeyCheck(None, "revoked")
        return KeyCheck(Principal(record.owner, record.role, record.name))


def _info(record: ApiKeyRecord) -> ApiKeyInfo:
    return ApiKeyInfo(record.name, record.owner, record.role, as_utc(record.created_at),
                      as_utc(record.revoked_at) if record.revoked_at else None)
