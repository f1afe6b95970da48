"""Who is calling: the roles, the single-user owner and the `Principal` routes receive.

Kept apart from api/routes/deps.py (which re-exports these names) so that the access-control
module can use them without importing the routes' dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("inspector", "enterprise", "trainer", "admin")
LOCAL_OWNER = "local"  # single-user mode (loopback only, auth off) and rows from before API keys


@dataclass(frozen=True)
class Principal:
    """The caller: the API key's owner name and role (single-user mode: "local", admin).

    `key` names the API key itself (rate limits count per key); empty in single-user mode.
    """

    owner: str
    role: str
    key: str = ""
