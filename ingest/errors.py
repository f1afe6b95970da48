"""Errors that name the file and say, in Chinese and English, what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A source file that cannot be ingested. Other files go on being ingested."""

    def __init__(self, path: Path | str, zh: str, en: str):
        self.path = str(path)
        self.zh = zh
        self.en = en
        super().__init__(f"{self.path}: {zh} / {en}")


class DuplicateSlugError(IngestError):
    pass
