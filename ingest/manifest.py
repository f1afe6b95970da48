"""The team's manifest (corpus/manifest.yaml) and its check against each file's front matter."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assistant.model import as_tuple

CHECKED_FIELDS = ("title", "doc_number", "kind", "issued", "effective")


@dataclass(frozen=True)
class ManifestEntry:
    slug: str
    title: str
    short_title: str = ""
    doc_number: str = ""
    kind: str = ""
    issued: str = ""
    effective: str = ""
    status: str = ""
    role: str = ""
    industries: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()
    replaced_by: tuple[str, ...] = ()


@dataclass
class Manifest:
    entries: dict[str, ManifestEntry] = field(default_factory=dict)

    def get(self, slug: str) -> ManifestEntry | None:
        return self.entries.get(slug)

    def titles(self) -> dict[str, str]:
        return {e.title: e.slug for e in self.entries.values()}

    def check(self, slug: str, meta: dict[str, Any]) -> list[str]:
        """Differences between the manifest and a file's front matter, as readable lines."""
        entry = self.get(slug)
        if entry is None:
            return [f"{slug}: 不在清单 corpus/manifest.yaml 中 / not in the manifest"]
        problems = []
        for name in CHECKED_FIELDS:
            if name not in meta:
                continue
            want, got = str(getattr(entry, name) or ""), str(meta.get(name) or "")
            if want != got:
                problems.append(f"{slug}: {name} 清单为 {want!r}，文件头为 {got!r} / manifest and front matter differ")
        status = str(meta.get("status") or "")
        if status and entry.status and not status.startswith(entry.status):
            problems.append(f"{slug}: status 清单为 {entry.status!r}，文件头为 {status[:20]!r}… / status differs")
        return problems


def parse_manifest(data: dict[str, Any]) -> Manifest:
    entries: dict[str, ManifestEntry] = {}
    for raw in data.get("documents") or []:
        slug = str(raw["slug"])
        if slug in entries:
            raise ValueError(f"manifest lists {slug} twice")
        entries[slug] = ManifestEntry(
            slug=slug,
            title=str(raw["title"]),
            short_title=str(raw.get("short_title") or ""),
            doc_number=str(raw.get("doc_number") or ""),
            kind=str(raw.get("kind") or ""),
            issued=str(raw.get("issued") or ""),
            effective=str(raw.get("effective") or ""),
            status=str(raw.get("status") or ""),
            role=str(raw.get("role") or ""),
            industries=as_tuple(raw.get("industries")),
            domains=as_tuple(raw.get("domains")),
            replaces=as_tuple(raw.get("replaces")),
            replaced_by=as_tuple(raw.get("replaced_by")),
        )
    return Manifest(entries)


def load_manifest(path: Path | None = None) -> Manifest:
    if path is None:
        text = resources.files("corpus").joinpath("manifest.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return parse_manifest(yaml.safe_load(text) or {})


def load_synonyms(path: Path | None = None):
    """The team's colloquial → official term table (corpus/synonyms.yaml)."""
    from assistant.synonyms import Synonyms

    if path is None:
        text = resources.files("corpus").joinpath("synonyms.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return Synonyms.from_mapping(yaml.safe_load(text) or {})
