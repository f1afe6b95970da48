"""Owners of stored data: the startup migration that gives tables from before API keys their
`owner` column (existing rows belong to "local", the single-user owner).

Idempotent and safe when several workers start together: each step inspects first, and a step
another process finished in the meantime is accepted. Plain SQL that SQLite and PostgreSQL share.
"""

from __future__ import annotations

import logging

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from api.principal import LOCAL_OWNER

log = logging.getLogger(__name__)

OWNED_TABLES = ("chat_sessions", "enterprises", "self_check_reports")
OWNER_LENGTH = 100
# Enterprise names were unique across the whole database; now they are unique per owner.
ENTERPRISE_OWNER_NAME = "uq_enterprises_owner_name"


def add_owner_columns(engine: Engine) -> list[str]:
    """Add what is missing; returns the steps taken (empty when the schema is current)."""
    done: list[str] = []
    tables = set(inspect(engine).get_table_names())
    for table in OWNED_TABLES:
        if table in tables and not _has_column(engine, table, "owner"):
            _step(engine, done, f"{table}.owner",
                  f"ALTER TABLE {table} ADD COLUMN owner VARCHAR({OWNER_LENGTH}) NOT NULL DEFAULT '{LOCAL_OWNER}'",
                  lambda t=table: _has_column(engine, t, "owner"))
        if table in tables:
            _step_if_missing_index(engine, done, table, f"ix_{table}_owner", f"CREATE INDEX ix_{table}_owner ON {table} (owner)")
    if "enterprises" in tables:
        for index in inspect(engine).get_indexes("enterprises"):
            if index["unique"] and index["column_names"] == ["name"]:
                _step(engine, done, f"drop {index['name']}", f"DROP INDEX {index['name']}",
                      lambda n=index["name"]: n not in _index_names(engine, "enterprises"))
        _step_if_missing_index(engine, done, "enterprises", ENTERPRISE_OWNER_NAME,
                               f"CREATE UNIQUE INDEX {ENTERPRISE_OWNER_NAME} ON enterprises (owner, name)")
    if done:
        log.info("ownership migration: %s", ", ".join(done))
    return done


def _has_column(engine: Engine, table: str, column: str) -> bool:
    return column in {c["name"] for c in inspect(engine).get_columns(table)}


def _index_names(engine: Engine, table: str) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes(table)}


def _step_if_missing_index(engine: Engine, done: list[str], table: str, name: str, sql: str) -> None:
    if name not in _index_names(engine, table):
        _step(engine, done, name, sql, lambda: name in _index_names(engine, table))


def _step(engine: Engine, done: list[str], label: str, sql: str, finished) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    except DBAPIError:
        if not finished():  # not a concurrent worker's doing: a real failure
            raise
        return
    done.append(label)
