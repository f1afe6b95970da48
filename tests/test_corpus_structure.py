"""Structure of the real corpus (../shared/corpus): counts and links that must hold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assistant.model import ARTICLE, FAMILY_GB, FAMILY_LIST, ITEM, SUB_ITEM, ParsedDocument
from ingest.documents import build_document
from ingest.loaders import load_file
from ingest.manifest import load_manifest
from ingest.structure import HEADING_RE

pytestmark = pytest.mark.corpus


def corpus_files(corpus_dir: Path) -> list[Path]:
    return [p for sub in ("laws", "standards") for p in sorted((corpus_dir / sub).glob("*.md"))
            if p.name != "README.md"]


@pytest.fixture(scope="module")
def parsed(corpus_dir) -> dict[str, ParsedDocument]:
    manifest = load_manifest()
    out: dict[str, ParsedDocument] = {}
    for path in corpus_files(corpus_dir):
        [source] = load_file(path)
        assert source.slug not in out, f"slug {source.slug} twice"
        out[source.slug] = build_document(source, manifest)
    return out


@pytest.fixture(scope="module")
def sources(corpus_dir):
    return {load_file(p)[0].slug: load_file(p)[0] for p in corpus_files(corpus_dir)}


def levels(doc: ParsedDocument) -> Counter:
    return Counter(c.level for c in doc.clauses)


def clause(doc: ParsedDocument, clause_id: str):
    found = [c for c in doc.clauses if c.clause_id == clause_id]
    assert len(found) == 1, clause_id
    return found[0]


def test_gongmao_articles_and_items(parsed):
    doc = parsed["gongmao-major-hazard"]
    assert levels(doc)[ARTICLE] == 15
    assert levels(doc)[ITEM] == 64
    assert [c.article for c in doc.clauses if c.level == ARTICLE] == list(range(1, 16))
    item = clause(doc, "gongmao-major-hazard:11:10")
    assert (item.article, item.item, item.parent_id) == (11, 10, "gongmao-major-hazard:11")
    assert item.lead_in and "下列情形之一" in item.lead_in


def test_work_safety_law_has_119_articles(parsed):
    doc = parsed["work-safety-law"]
    assert [c.article for c in doc.clauses if c.level == ARTICLE] == list(range(1, 120))
    assert doc.document.clause_count == len(doc.clauses)


def test_special_equipment_gb_clauses(parsed):
    doc = parsed["special-equipment-major-hazard"]
    assert doc.document.family == FAMILY_GB
    assert [c.article for c in doc.clauses if c.level == ARTICLE] == [f"4.{i}" for i in range(1, 11)]
    items = [c for c in doc.clauses if c.level == ITEM]
    assert len(items) == 47
    assert all(isinstance(c.item, str) and len(c.item) == 1 and c.item.islower() for c in items)
    b = clause(doc, "special-equipment-major-hazard:4.3:b")
    assert b.text.startswith("b)")
    assert b.parent_id == "special-equipment-major-hazard:4.3"


def test_metal_mine_parts_items_and_sub_items(parsed):
    doc = parsed["metal-mine-major-hazard"]
    assert doc.document.family == FAMILY_LIST
    assert levels(doc)[ITEM] == 64
    assert levels(doc)[SUB_ITEM] == 79
    sub = clause(doc, "metal-mine-major-hazard:1:1:2")
    assert sub.text.startswith("2.")
    assert sub.part_title.startswith("一、") and "地下矿山" in sub.part_title
    assert sub.parent_id == "metal-mine-major-hazard:1:1"


def test_chemical_list_clauses_carry_the_leadin(parsed):
    doc = parsed["chemical-major-hazard"]
    assert doc.document.family == FAMILY_LIST
    articles = [c for c in doc.clauses if c.level == ARTICLE]
    assert [c.article for c in articles] == list(range(1, 21))
    assert len(doc.clauses) == 20
    lead = doc.document.lead_in
    assert lead.endswith("：") and "情形" in lead
    for c in articles:
        assert c.lead_in == lead
        assert c.item is None
        assert c.search_text.startswith(lead + "\n")
    assert clause(doc, "chemical-major-hazard:12").text.startswith("十二、")


def test_coal_tables_stay_inside_their_clause(parsed):
    doc = parsed["coal-major-hazard"]
    sub = clause(doc, "coal-major-hazard:5:9:1")
    assert sub.text.startswith("1.")
    assert "<table>" in sub.text
    assert sub.text.count("<table>") == sub.text.count("</table>") == 1
    for c in doc.clauses:
        assert c.text.count("<table>") == c.text.count("</table>"), c.clause_id
        assert not c.text.startswith("<table"), c.clause_id
        assert not c.text.startswith("表"), c.clause_id


def _has_body(source) -> bool:
    return any(not HEADING_RE.match(line) for line in source.lines)


def test_metadata_only_files_yield_no_clauses(parsed, sources):
    metadata_only = [slug for slug, s in sources.items()
                     if s.meta.get("complete") is False and not _has_body(s)]
    assert "fire-major-hazard" in metadata_only
    assert "chemical-major-hazard-2026" in metadata_only
    for slug in metadata_only:
        doc = parsed[slug]
        assert doc.clauses == [], slug
        assert doc.document.metadata_only is True, slug
        assert doc.document.complete is False, slug


def test_files_with_a_body_are_not_metadata_only(parsed, sources):
    for slug, source in sources.items():
        if _has_body(source):
            assert parsed[slug].clauses, slug
            assert parsed[slug].document.metadata_only is False, slug


def test_clause_ids_are_unique_across_the_corpus(parsed):
    counts = Counter(c.clause_id for doc in parsed.values() for c in doc.clauses)
    assert [cid for cid, n in counts.items() if n > 1] == []
    assert sum(counts.values()) > 2000


def test_clause_ids_start_with_their_document_slug(parsed):
    for slug, doc in parsed.items():
        for c in doc.clauses:
            assert c.doc_slug == slug
            assert c.clause_id.startswith(slug + ":"), c.clause_id


def test_parent_ids_are_clauses_of_the_same_document(parsed):
    for slug, doc in parsed.items():
        ids = {c.clause_id for c in doc.clauses}
        for c in doc.clauses:
            if c.parent_id is not None:
                assert c.parent_id in ids, c.clause_id
                assert c.parent_id.startswith(slug + ":")
                assert c.clause_id.startswith(c.parent_id + ":")
            else:
                assert c.level == ARTICLE, c.clause_id


def test_clause_text_is_never_empty(parsed):
    for doc in parsed.values():
        for c in doc.clauses:
            assert c.text.strip(), c.clause_id
