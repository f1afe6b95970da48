"""Backup and restore of what a deployment holds: the database (online), the current index
generation with CURRENT and the embedding cache, and the admins' uploaded documents.

A backup folder:
    backup-manifest.json          time, generation, document versions, sha256 of every file
    database.sqlite3 | database.pgdump
    index/CURRENT, index/generations/<name>/…, index/embeddings.sqlite
    uploads/…

SQLite is copied with sqlite3's online backup API (consistent while the server writes);
PostgreSQL with `pg_dump --format=custom` (one snapshot, consistent while the server writes;
restored with `pg_restore --clean --single-transaction`, so a failed restore changes nothing). The
backup is written to a temporary sibling folder and renamed into place, so a failed backup leaves
nothing that looks complete. A restore verifies every checksum before it writes anything and
refuses a non-empty data dir or a database that already holds rows unless forced.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from api.settings import Settings
from ingest import generations as gen
from ingest.uploads import UPLOADS, list_uploads, uploads_dir

MANIFEST = "backup-manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
INDEX = "index"
EMBEDDINGS = "embeddings.sqlite"
# A backup holds the ingest lock while it copies the index; an ingest in progress is waited for.
LOCK_WAIT_SECONDS = 300.0


class BackupError(Exception):
    """Backup or restore refused or failed; the message is Chinese and shown to the user."""


@dataclass
class BackupSummary:
    path: Path
    manifest: dict[str, Any]


# -- helpers ----------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sqlite_copy(src: Path, dst: Path) -> None:
    """Online copy: sqlite3's backup API reads a consistent snapshot while others write."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _database_kind(url: str) -> tuple[str, Any]:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise BackupError("内存数据库无法备份，请配置 HAZARD_DATABASE_URL 为文件或 PostgreSQL")
        return "sqlite", Path(parsed.database)
    if backend == "postgresql":
        return "postgresql", parsed
    raise BackupError(f"不支持备份 {backend} 数据库：仅支持 SQLite 与 PostgreSQL")


def _libpq_url(parsed) -> str:
    # pg_dump speaks libpq URLs: no "+driver" part, and no password (it goes in PGPASSWORD, so it
    # does not show in the process list).
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _pg_tool(tool: str) -> str | None:
    """The newest installed version of a PostgreSQL client tool: pg_dump refuses a server newer
    than itself, while a newer pg_dump reads every older server. Debian keeps each version in
    /usr/lib/postgresql/<major>/bin; elsewhere the tool on PATH."""
    def major(path: str) -> tuple[int, ...]:
        return tuple(int(p) for p in Path(path).parent.parent.name.split(".") if p.isdigit())

    versioned = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=major)
    return versioned[-1] if versioned else shutil.which(tool)


def _run_pg(tool: str, args: list[str], parsed) -> None:
    exe = _pg_tool(tool)
    if exe is None:
        raise BackupError(f"未找到 {tool}：PostgreSQL 数据库的备份与恢复需要安装 PostgreSQL 客户端工具")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    try:
        subprocess.run([exe, *args], check=True, capture_output=True, timeout=3600, env=env,
                       stdin=subprocess.DEVNULL)
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode(errors="replace").strip()[-300:]
        raise BackupError(f"{tool} 执行失败：{message}") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"{tool} 超过一小时仍未结束，已中止") from None


def _database_has_rows(url: str) -> bool:
    """Whether any table of the target database holds a row (restoring would replace them)."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database).exists():
        return False  # connecting would create the file
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for name in inspect(conn).get_table_names():
                if conn.execute(text(f"SELECT 1 FROM {quote(name)} LIMIT 1")).first() is not None:
                    return True
        return False
    except SQLAlchemyError as exc:
        raise BackupError(f"无法连接目标数据库 {parsed.render_as_string(hide_password=True)}："
                          f"{str(exc).splitlines()[0][:200]}") from None
    finally:
        engine.dispose()


def _take_ingest_lock(data_dir: Path):
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        lock = gen.ingest_lock(data_dir)
        try:
            lock.__enter__()
            return lock
        except gen.IngestBusyError:
            if time.monotonic() > deadline:
                raise BackupError("入库进程长时间未结束，无法备份索引；请稍后重试") from None
            time.sleep(1.0)


def _is_empty_dir(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


# -- backup -----------------------------------------------------------------------------------------
def backup(settings: Settings, dest: Path) -> BackupSummary:
    """Write a backup of the database, the current index generation and the uploads to `dest`
    (which must not exist or be empty)."""
    dest = Path(dest).resolve()
    data_dir = Path(settings.data_dir).resolve()
    if not _is_empty_dir(dest):
        raise BackupError(f"备份目录 {dest} 已存在且非空，请指定新的目录")
    if dest == data_dir or data_dir in dest.parents:
        raise BackupError("备份目录不能位于数据目录之内")
    kind, db = _database_kind(settings.resolved_database_url())
    work = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:8]}.partial"
    work.mkdir(parents=True)
    try:
        manifest: dict[str, Any] = {"format": FORMAT, "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                    "database": {"kind": kind}, "generation": None, "documents": [],
                                    "uploads": []}
        if kind == "sqlite":
            if not db.exists():
                raise BackupError(f"数据库文件 {db} 不存在")
            _sqlite_copy(db, work / SQLITE_FILE)
            manifest["database"]["file"] = SQLITE_FILE
        else:
            _run_pg("pg_dump", ["--format=custom", f"--file={work / PG_FILE}", _libpq_url(db)], db)
            manifest["database"]["file"] = PG_FILE
        if data_dir.exists():
            _backup_index(data_dir, work, manifest)
        manifest["files"] = {str(p.relative_to(work)): _sha256(p) for p in sorted(work.rglob("*")) if p.is_file()}
        gen.write_json(work / MANIFEST, manifest)
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupSummary(dest, manifest)


def _backup_index(data_dir: Path, work: Path, manifest: dict[str, Any]) -> None:
    lock = _take_ingest_lock(data_dir)
    try:
        name = gen.current_name(data_dir)
        if name is not None:
            shutil.copytree(gen.generations_dir(data_dir) / name, work / INDEX / "generations" / name)
            (work / INDEX / "CURRENT").write_text(name, encoding="utf-8")
            manifest["generation"] = name
            store = gen.read_json(work / INDEX / "generations" / name / "store.json")
            manifest["documents"] = [
                {"slug": d["slug"], "title": d.get("title", ""), "doc_number": d.get("doc_number", ""),
                 "status": d.get("status", ""), "content_hash": d.get("content_hash", ""),
                 "file_hash": d.get("file_hash", "")}
                for d in sorted(_documents(store), key=lambda d: d["slug"])]
        if (data_dir / EMBEDDINGS).exists():
            (work / INDEX).mkdir(parents=True, exist_ok=True)
            _sqlite_copy(data_dir / EMBEDDINGS, work / INDEX / EMBEDDINGS)
        uploads = list_uploads(data_dir)
        if uploads:
            (work / UPLOADS).mkdir()
            for path in uploads:
                shutil.copy2(path, work / UPLOADS / path.name)
            manifest["uploads"] = [p.name for p in uploads]
    finally:
        lock.__exit__(None, None, None)


def _documents(store: dict[str, Any]) -> list[dict[str, Any]]:
    documents = store.get("documents", {})
    return list(documents.values()) if isinstance(documents, dict) else list(documents)


# -- restore ----------------------------------------------------------------------------------------
def read_manifest(src: Path) -> dict[str, Any]:
    try:
        with open(Path(src) / MANIFEST, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise BackupError(f"{src} 不是备份目录（缺少 {MANIFEST}）") from None
    except ValueError:
        raise BackupError(f"{MANIFEST} 已损坏，无法读取") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不支持的备份格式版本：{manifest.get('format')}")
    return manifest


def verify(src: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is present with its checksum (else BackupError)."""
    src = Path(src)
    manifest = read_manifest(src)
    for rel, expected in manifest.get("files", {}).items():
        path = src / rel
        if not path.is_file():
            raise BackupError(f"备份不完整：缺少文件 {rel}")
        if _sha256(path) != expected:
            raise BackupError(f"备份文件 {rel} 校验失败（SHA-256 不符），可能已损坏或被改动")
    return manifest


def restore(src: Path, settings: Settings, force: bool = False) -> dict[str, Any]:
    """Restore a verified backup into settings.data_dir and the configured database."""
    src = Path(src).resolve()
    manifest = verify(src)
    data_dir = Path(settings.data_dir).resolve()
    if not _is_empty_dir(data_dir) and not force:
        raise BackupError(f"数据目录 {data_dir} 非空；确认覆盖请加 --force（请先停止服务）")
    url = settings.resolved_database_url()
    kind, db = _database_kind(url)
    if kind != manifest["database"]["kind"]:
        raise BackupError(f"备份中的数据库为 {manifest['database']['kind']}，当前配置为 {kind}，无法恢复")
    if not force and _database_has_rows(url):
        raise BackupError(f"目标数据库 {make_url(url).render_as_string(hide_password=True)} 非空（已有数据）；"
                          "确认覆盖请加 --force（请先停止服务）")
    data_dir.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        db.parent.mkdir(parents=True, exist_ok=True)
        tmp = db.with_name(f".{db.name}.{uuid.uuid4().hex[:6]}.restore")
        shutil.copyfile(src / SQLITE_FILE, tmp)
        os.replace(tmp, db)
        for suffix in ("-wal", "-shm", "-journal"):  # left by the database being replaced
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    else:
        # One transaction: a failed restore leaves the database as it was. Owners and grants are
        # those of the restoring role (the original roles may not exist on this server).
        _run_pg("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                               f"--dbname={_libpq_url(db)}", str(src / PG_FILE)], db)
    _restore_index(src, data_dir, manifest)
    return manifest


def _restore_index(src: Path, data_dir: Path, manifest: dict[str, Any]) -> None:
    name = manifest.get("generation")
    if name:
        target = gen.generations_dir(data_dir) / name
        staged = gen.generations_dir(data_dir) / f".{name}.restore"
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(src / INDEX / "generations" / name, staged)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staged, target)
        gen.publish(data_dir, target)  # READY is already there; CURRENT switches by one rename
    if (src / INDEX / EMBEDDINGS).exists():
        tmp = data_dir / f".{EMBEDDINGS}.restore"
        shutil.copyfile(src / INDEX / EMBEDDINGS, tmp)
        os.replace(tmp, data_dir / EMBEDDINGS)
    target_uploads = uploads_dir(data_dir)
    shutil.rmtree(target_uploads, ignore_errors=True)
    if manifest.get("uploads"):
        target_uploads.mkdir(parents=True)
        for name in manifest["uploads"]:
            shutil.copy2(src / UPLOADS / name, target_uploads / name)
