"""Processed ledgers on disk: <data_dir>/ledgers/<id>/{ledger.json, result.xlsx|csv}.

A ledger is prepared in a hidden sibling folder and published by one rename, so a reader never
sees a record without its file or a half-written file.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

_ID = re.compile(r"^[0-9a-f]{32}$")
RECORD = "ledger.json"


class UnknownLedgerError(LookupError):
    def __init__(self, ledger_id: str):
        super().__init__(f"未找到编号为 {ledger_id[:64]} 的台账判定结果（编号有误或已被删除）。")


class LedgerStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def create(self, build: Callable[[str, Path], dict]) -> dict:
        """Run `build(id, folder)` — it writes the result file into `folder` and returns the record —
        then publish the folder. Nothing is left behind when `build` fails."""
        ledger_id = uuid.uuid4().hex
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{ledger_id}.tmp"
        staging.mkdir()
        try:
            record = build(ledger_id, staging)
            (staging / RECORD).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            staging.rename(self.root / ledger_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return record

    def _folder(self, ledger_id: str) -> Path:
        folder = self.root / ledger_id
        if not _ID.match(ledger_id) or not (folder / RECORD).is_file():
            raise UnknownLedgerError(ledger_id)
        return folder

    def record(self, ledger_id: str) -> dict:
        return json.loads((self._folder(ledger_id) / RECORD).read_text(encoding="utf-8"))

    def result_file(self, ledger_id: str) -> tuple[Path, dict]:
        folder = self._folder(ledger_id)
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        path = folder / record["stored_as"]
        if not path.is_file():
            raise UnknownLedgerError(ledger_id)
        return path, record
