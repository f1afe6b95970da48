"""Processed ledgers on disk: <data_dir>/ledgers/<id>/{ledger.json, result.xlsx|csv}.

A ledger is prepared in a hidden sibling folder and published by one rename, so a reader never
sees a record without its file or a half-written file. The record names its owner (the API key's
owner; "local" for ledgers from before API keys): another owner's ledger reads as missing.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from api.principal import LOCAL_OWNER

_ID = re.compile(r"^[0-9a-f]{32}$")
RECORD = "ledger.json"


class UnknownLedgerError(LookupError):
    def __init__(self, ledger_id: str):
        super().__init__(f"未找到编号为 {ledger_id[:64]} 的台账判定结果（编号有误或已被删除）。")


class LedgerStore:
    def __init__(self, root: Path, owner: str = LOCAL_OWNER):
        self.root = Path(root)
        self.owner = owner

    def create(self, build: Callable[[str, Path], dict]) -> dict:
        """Run `build(id, folder)` — it writes the result file into `folder` and returns the record —
        then publish the folder. Nothing is left behind when `build` fails."""
        ledger_id = uuid.uuid4().hex
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".{ledger_id}.tmp"
        staging.mkdir()
        try:
            record = build(ledger_id, staging) | {"owner": self.owner}
            (staging / RECORD).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            staging.rename(self.root / ledger_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return record

    def _open(self, ledger_id: str) -> tuple[Path, dict]:
        folder = self.root / ledger_id
        if not _ID.match(ledger_id) or not (folder / RECORD).is_file():
            raise UnknownLedgerError(ledger_id)
        try:
            record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        except FileNotFoundError:  # deleted meanwhile
            raise UnknownLedgerError(ledger_id) from None
        if record.get("owner", LOCAL_OWNER) != self.owner:
            raise UnknownLedgerError(ledger_id)
        return folder, record

    def record(self, ledger_id: str) -> dict:
        return self._open(ledger_id)[1]

    def delete(self, ledger_id: str) -> None:
        """Remove the ledger: renamed aside first, so readers never see it half deleted."""
        folder, _ = self._open(ledger_id)
        doomed = self.root / f".{ledger_id}.deleted"
        try:
            folder.rename(doomed)
        except FileNotFoundError:  # a concurrent delete won
            raise UnknownLedgerError(ledger_id) from None
        shutil.rmtree(doomed, ignore_errors=True)

    def result_file(self, ledger_id: str) -> tuple[Path, dict]:
        folder, record = self._open(ledger_id)
        path = folder / record["stored_as"]
        if not path.is_file():
            raise UnknownLedgerError(ledger_id)
        return path, record
