"""The domain's data classes: Document, Clause and Citation.

Every other module takes and returns these, never loose dicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def as_tuple(value: Any) -> tuple[str, ...]:
    """YAML values that may be missing, one string, or a list → a tuple of strings."""
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)

# Clause levels, outermost first.
ARTICLE, ITEM, SUB_ITEM = "article", "item", "sub_item"

# Numbering families (see ARCHITECTURE.md, "Numbering families").
FAMILY_ARTICLES = "articles"  # 第十一条第（十）项
FAMILY_LIST = "list"  # 一、二、… take the article position (also parts of the metal-mine standard)
FAMILY_GB = "gb"  # GB dotted clauses: 4.3 b)


@dataclass(frozen=True)
class Document:
    slug: str
    title: str
    doc_number: str = ""
    issuer: str = ""
    kind: str = ""
    issued: str = ""
    effective: str = ""
    status: str = ""  # short status (现行有效, 效力待核实, 未核实 …) from the manifest
    status_note: str = ""  # the front matter's full status text
    scope: str = ""
    short_title: str = ""
    role: str = ""  # criteria | rules | law
    industries: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()
    replaced_by: tuple[str, ...] = ()
    complete: bool = True
    missing: tuple[str, ...] = ()
    official_url: str = ""
    family: str = FAMILY_ARTICLES
    lead_in: str = ""  # for list-family documents: the sentence that introduces the items
    preamble: str = ""  # promulgation order / notice text before the first clause
    source_path: str = ""
    source_format: str = ""
    file_hash: str = ""
    content_hash: str = ""
    clause_count: int = 0

    @property
    def metadata_only(self) -> bool:
        """Known document with no verified text in the corpus (e.g. GB 35181-2025)."""
        return self.clause_count == 0

    @property
    def in_force(self) -> bool:
        """Current documents: status says 现行有效 and nothing replaces it."""
        return self.status.startswith("现行有效") and not self.replaced_by

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["metadata_only"] = self.metadata_only
        for key in ("industries", "domains", "replaces", "replaced_by", "missing"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Document":
        d = dict(d)
        d.pop("metadata_only", None)
        for key in ("industries", "domains", "replaces", "replaced_by", "missing"):
            d[key] = tuple(d.get(key) or ())
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class Clause:
    """One article, item, sub-item or GB clause, with its official text."""

    clause_id: str
    doc_slug: str
    level: str
    article: int | str  # int for 第N条 / list numbers, str for GB "4.3"
    item: int | str | None = None  # int for （十）, str for GB "b"
    sub_item: int | None = None
    text: str = ""  # exactly as the official source has it (for quoting)
    lead_in: str = ""  # the parent's introductory sentence, so an item stands on its own
    parent_id: str | None = None
    chapter: str = ""
    part_title: str = ""  # metal-mine parts: "一、金属非金属地下矿山重大事故隐患"
    order: int = 0  # position in the document

    @property
    def search_text(self) -> str:
        """What retrieval sees: the item together with its lead-in."""
        if self.lead_in:
            return f"{self.lead_in}\n{self.text}"
        return self.text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Clause":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True)
class Citation:
    """A clause reference in human and structured form, built only by `citation.cite`."""

    clause_id: str
    citation: str  # 《工贸企业重大事故隐患判定标准》（应急管理部令第10号）第十一条第（十）项
    document_title: str
    doc_number: str
    article: int | str
    item: int | str | None
    sub_item: int | None
    quote: str
    status: str = ""
    effective: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ParsedDocument:
    """A document and its clauses as produced by ingest, before indexing."""

    document: Document
    clauses: list[Clause] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
