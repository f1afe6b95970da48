"""Index generations in the data dir: build a new one beside the current, then switch atomically.

Layout of `data_dir`:
    CURRENT                 name of the generation readers use (replaced atomically)
    generations/<name>/     store.json, tokens.json, terms.txt, sources.json, chroma/, READY
    embeddings.sqlite       embedding cache shared by all generations
    ingest.lock             one ingest at a time

A generation without READY is unfinished (a crash or kill during ingest) and is never read;
the next ingest removes it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

READY = "READY"
# Previous generations kept for `hazard replay` of logged decisions (HAZARD_KEEP_GENERATIONS).
KEEP_PREVIOUS = 5


class NoIndexError(RuntimeError):
    def __str__(self) -> str:
        return "索引尚未建立，请先运行 hazard ingest / no index yet: run `hazard ingest` first"


class GenerationGoneError(RuntimeError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"索引版本 {self.name} 已不存在（已被清理） / index generation {self.name} is gone (pruned)"


class IngestBusyError(RuntimeError):
    def __str__(self) -> str:
        return "另一个入库进程正在运行 / another ingest is running"


def generations_dir(data_dir: Path) -> Path:
    return data_dir / "generations"


def current_name(data_dir: Path) -> str | None:
    try:
        name = (data_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name and (generations_dir(data_dir) / name / READY).exists() else None


def current_path(data_dir: Path) -> Path:
    name = current_name(data_dir)
    if name is None:
        raise NoIndexError()
    return generations_dir(data_dir) / name


def generation_path(data_dir: Path, name: str) -> Path:
    """A finished generation by name (current or kept by `prune`); GenerationGoneError when it is not there."""
    path = generations_dir(data_dir) / name
    if "/" in name or name in ("", ".", "..") or not (path / READY).exists():
        raise GenerationGoneError(name)
    return path


def new_generation(data_dir: Path) -> Path:
    # Microseconds in the name: generations made within one second still sort by age.
    now = time.time()
    name = time.strftime("g%Y%m%d-%H%M%S", time.localtime(now)) + f"{int(now % 1 * 1e6):06d}-" + uuid.uuid4().hex[:6]
    path = generations_dir(data_dir) / name
    path.mkdir(parents=True)
    return path


def write_json(path: Path, data: Any) -> None:
    # A unique temp name: two threads or processes writing the same file (ingest-status.json) must
    # not rename each other's temp file away.
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(data_dir: Path, generation: Path) -> None:
    """Mark `generation` complete and make it current in one atomic rename."""
    (generation / READY).write_text(time.strftime("%Y-%m-%dT%H:%M:%S"), encoding="utf-8")
    _fsync_dir(generation)
    tmp = data_dir / f"CURRENT.{uuid.uuid4().hex[:6]}.tmp"
    tmp.write_text(generation.name, encoding="utf-8")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, data_dir / "CURRENT")
    _fsync_dir(data_dir)


def prune(data_dir: Path, keep: int = KEEP_PREVIOUS) -> list[str]:
    """Remove unfinished generations and all but `keep` previous finished ones."""
    root = generations_dir(data_dir)
    if not root.exists():
        return []
    current = current_name(data_dir)
    # Oldest first by when each was published (names sort the same way, to the microsecond).
    finished = sorted((p for p in root.iterdir() if (p / READY).exists() and p.name != current),
                      key=lambda p: ((p / READY).stat().st_mtime_ns, p.name))
    removed = []
    for path in root.iterdir():
        if path.name == current:
            continue
        if not (path / READY).exists() or path in finished[: max(0, len(finished) - keep)]:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    for tmp in data_dir.glob("CURRENT.*.tmp"):
        tmp.unlink(missing_ok=True)
    return removed


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestBusyError() from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
