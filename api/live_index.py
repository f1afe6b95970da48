"""Live index switch and background rebuilds for a running server.

- `IndexWatcher` notices that data_dir/CURRENT names another generation (one small file read
  every `index_watch_seconds`, in every worker process) and swaps the app's AppState: the new
  index, classifier and dialogue are built completely first, then one reference is replaced.
  A request holds the AppState it started with (`Depends(get_state)` is resolved once per
  request), so in-flight requests finish on the old generation.
- `RebuildRunner` runs the ingest (corpus + uploads) in a background thread, one at a time; a
  request made while one runs is queued and coalesced into one more run. Its state is kept in
  data_dir/ingest-status.json so that any worker can report it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.routes.deps import AppState
from api.settings import Settings
from ingest import generations as gen

log = logging.getLogger(__name__)

STATUS_FILE = "ingest-status.json"
# How long a rebuild waits for an ingest run by another process (hazard ingest, another worker).
BUSY_WAIT_SECONDS = 900.0
BUSY_POLL_SECONDS = 1.0


class IndexWatcher:
    """Swaps `app.state.hazard` when CURRENT changes; `check()` can also be called directly."""

    def __init__(self, app, settings: Settings, build_state: Callable[[], AppState]):
        self._app = app
        self._data_dir = Path(settings.data_dir)
        self._build_state = build_state
        self._interval = settings.index_watch_seconds
        state: AppState = app.state.hazard
        self._seen = state.index.generation if state.index is not None else gen.current_name(self._data_dir)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def generation(self) -> str | None:
        return self._seen

    def start(self) -> IndexWatcher:
        if self._interval > 0:
            self._thread = threading.Thread(target=self._loop, name="hazard-index-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.check()
            except Exception:  # a failed reload must not kill the watcher; the old index keeps serving
                log.exception("reloading the index failed; the previous generation stays in use")

    def check(self) -> bool:
        """Load and switch to the current generation if it changed; True when switched."""
        with self._lock:
            name = gen.current_name(self._data_dir)
            if name is None or name == self._seen:
                return False
            started = time.perf_counter()
            state = self._build_state()
            if state.index is None:
                log.warning("generation %s could not be opened (%s); keeping %s", name, state.unavailable, self._seen)
                return False
            self._app.state.hazard = state
            self._seen = state.index.generation
            log.info("switched to index generation %s in %.1f s", self._seen, time.perf_counter() - started)
            return True


# -- rebuilds ---------------------------------------------------------------------------------------
def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(data_dir: Path) -> dict[str, Any]:
    """The last or current rebuild; a run whose process died (kill -9, crash) reads as failed."""
    path = Path(data_dir) / STATUS_FILE
    try:
        status = gen.read_json(path)
    except (FileNotFoundError, ValueError):
        status = {"state": "idle"}
    if status.get("state") == "running" and status.get("host") == socket.gethostname() \
            and not _pid_alive(int(status.get("pid") or 0)):
        status = {**status, "state": "failed", "finished_at": None,
                  "error": "入库进程已中断（进程已退出），仍在使用上一版本索引；请重新入库"}
    status["generation"] = gen.current_name(Path(data_dir))
    status.setdefault("queued", False)
    return status


def _write_status(data_dir: Path, status: dict[str, Any]) -> None:
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    gen.write_json(Path(data_dir) / STATUS_FILE, status)


@dataclass
class RebuildOutcome:
    generation: str
    changed: bool
    counts: dict[str, int]
    failures: list[dict[str, str]]
    seconds: float


def ingest_corpus(settings: Settings, progress=None) -> RebuildOutcome:
    """One ingest of the configured corpus plus the uploads folder (what `hazard ingest` runs)."""
    from api.services import chroma_server
    from ingest.embeddings import embedding_key, make_embeddings
    from ingest.pipeline import ingest
    from ingest.uploads import uploads_dir

    key = embedding_key(settings.embeddings, **settings.embedding_options())
    report = ingest(settings.corpus_dir, settings.data_dir, key,
                    lambda: make_embeddings(settings.embeddings, **settings.embedding_options()),
                    settings.manifest, progress, extra_dirs=[uploads_dir(settings.data_dir)],
                    keep_generations=settings.keep_generations, vector_store=chroma_server(settings))
    counts: dict[str, int] = {}
    for d in report.docs:
        counts[d.status] = counts.get(d.status, 0) + 1
    failures = [{"path": d.path, "error": d.error} for d in report.failures]
    return RebuildOutcome(report.generation, report.changed, counts, failures, round(report.seconds, 2))


class RebuildRunner:
    """Background rebuilds, one at a time per process (the ingest lock serializes processes)."""

    def __init__(self, settings: Settings, on_published: Callable[[], object] | None = None,
                 run_ingest: Callable[[Settings], RebuildOutcome] = ingest_corpus):
        self._settings = settings
        self._data_dir = Path(settings.data_dir)
        self._on_published = on_published
        self._run_ingest = run_ingest
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending: str | None = None

    def request(self, trigger: str) -> dict[str, Any]:
        """Start a rebuild now, or queue one after the running one; the status either way."""
        with self._lock:
            if self._thread is not None:  # cleared by the thread itself, under this lock, when done
                self._pending = trigger
                status = read_status(self._data_dir)
                _write_status(self._data_dir, {**status, "queued": True})
                return {**status, "queued": True}
            self._start_status(trigger)
            self._thread = threading.Thread(target=self._run, args=(trigger,), name="hazard-rebuild", daemon=True)
            self._thread.start()
        return read_status(self._data_dir)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running rebuild (and queued ones); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread
            if thread is None or not thread.is_alive():
                return True
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if deadline is not None and time.monotonic() >= deadline and thread.is_alive():
                return False

    def _start_status(self, trigger: str) -> None:
        _write_status(self._data_dir, {
            "state": "running", "trigger": trigger, "started_at": _now(), "finished_at": None,
            "previous_generation": gen.current_name(self._data_dir), "queued": False,
            "pid": os.getpid(), "host": socket.gethostname(), "error": "", "counts": {}, "failures": [],
        })

    def _run(self, trigger: str) -> None:
        while True:
            try:
                self._rebuild_once(trigger)
            except Exception:  # e.g. the status file cannot be written: the runner must stay usable
                log.exception("rebuild bookkeeping failed")
            with self._lock:
                if self._pending is None:
                    self._thread = None
                    return
                trigger, self._pending = self._pending, None
                try:
                    self._start_status(trigger)
                except OSError:
                    log.exception("cannot write %s", STATUS_FILE)

    def _rebuild_once(self, trigger: str) -> None:
        from ingest.chroma_server import ChromaServerError
        from ingest.errors import IngestError

        status = read_status(self._data_dir)
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        try:
            while True:
                try:
                    outcome = self._run_ingest(self._settings)
                    break
                except gen.IngestBusyError:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(BUSY_POLL_SECONDS)
        except gen.IngestBusyError:
            self._finish(status, "failed", error="另一个入库进程长时间未结束，本次重建未执行；请稍后重试")
            return
        except IngestError as exc:
            self._finish(status, "failed", error=f"入库失败：{exc.zh}")
            return
        except ChromaServerError as exc:
            self._finish(status, "failed", error=f"入库失败：{str(exc).split(' / ')[0]}")
            return
        except Exception as exc:  # the server keeps serving the previous generation whatever happens
            log.exception("rebuild failed")
            self._finish(status, "failed", error=f"入库失败（{type(exc).__name__}），仍在使用上一版本索引")
            return
        self._finish(status, "finished", counts=outcome.counts, failures=outcome.failures,
                     changed=outcome.changed, built=outcome.generation, seconds=outcome.seconds)
        if outcome.changed and self._on_published is not None:
            try:
                self._on_published()
            except Exception:
                log.exception("switching to generation %s failed", outcome.generation)

    def _finish(self, status: dict[str, Any], state: str, **fields: Any) -> None:
        with self._lock:
            queued = self._pending is not None
        _write_status(self._data_dir, {**status, "state": state, "finished_at": _now(), "queued": queued,
                                       "error": fields.pop("error", ""), **fields})


@dataclass
class LiveIndex:
    watcher: IndexWatcher
    rebuilds: RebuildRunner

    def stop(self) -> None:
        self.watcher.stop()


def start_live_index(app, settings: Settings, build_state: Callable[[], AppState]) -> LiveIndex:
    """Start watching CURRENT and make background rebuilds available (`app.state.live_index`)."""
    watcher = IndexWatcher(app, settings, build_state).start()
    live = LiveIndex(watcher, RebuildRunner(settings, on_published=watcher.check))
    app.state.live_index = live
    return live
