"""ingest.manifest: the team's list of documents and its check against front matter."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import load_file
from ingest.manifest import Manifest, load_manifest, parse_manifest

DATA = {
    "documents": [
        {
            "slug": "test-std",
            "title": "测试行业重大事故隐患判定标准",
            "short_title": "测试标准",
            "doc_number": "测试部令第1号",
            "kind": "部门规章",
            "issued": "2023-04-14",
            "effective": "2023-05-15",
            "status": "现行有效",
            "role": "criteria",
            "industries": ["测试行业"],
            "domains": "有限空间",
            "replaces": None,
        },
        {"slug": "test-law", "title": "测试安全法", "doc_number": None},
    ]
}

AGREEING_META = {
    "title": "测试行业重大事故隐患判定标准",
    "doc_number": "测试部令第1号",
    "kind": "部门规章",
    "issued": "2023-04-14",
    "effective": "2023-05-15",
    "status": "现行有效（截至测试日期）",
}


@pytest.fixture
def manifest() -> Manifest:
    return parse_manifest(DATA)


def test_parse_manifest_fields(manifest):
    entry = manifest.get("test-std")
    assert entry is not None
    assert entry.title == "测试行业重大事故隐患判定标准"
    assert entry.doc_number == "测试部令第1号"
    assert entry.status == "现行有效"
    assert entry.industries == ("测试行业",)
    assert entry.domains == ("有限空间",)
    assert entry.replaces == ()
    assert manifest.get("test-law").doc_number == ""
    assert manifest.get("missing-slug") is None
    assert manifest.titles() == {"测试行业重大事故隐患判定标准": "test-std", "测试安全法": "test-law"}


def test_parse_manifest_rejects_duplicated_slug():
    data = {"documents": [{"slug": "test-std", "title": "测试一"}, {"slug": "test-std", "title": "测试二"}]}
    with pytest.raises(ValueError, match="test-std"):
        parse_manifest(data)


def test_parse_empty_manifest():
    assert parse_manifest({}).entries == {}


def test_check_returns_nothing_when_they_agree(manifest):
    assert manifest.check("test-std", AGREEING_META) == []


def test_check_ignores_fields_the_file_does_not_give(manifest):
    assert manifest.check("test-std", {"title": "测试行业重大事故隐患判定标准"}) == []


def test_check_reports_title_difference(manifest):
    meta = dict(AGREEING_META, title="测试行业重大事故隐患判定标准（修订）")
    problems = manifest.check("test-std", meta)
    assert len(problems) == 1
    assert problems[0].startswith("test-std: title")
    assert "测试行业重大事故隐患判定标准（修订）" in problems[0]


def test_check_reports_doc_number_difference(manifest):
    meta = dict(AGREEING_META, doc_number="测试部令第2号")
    problems = manifest.check("test-std", meta)
    assert len(problems) == 1
    assert problems[0].startswith("test-std: doc_number")
    assert "测试部令第1号" in problems[0] and "测试部令第2号" in problems[0]


def test_check_reports_status_that_does_not_start_with_manifest_status(manifest):
    meta = dict(AGREEING_META, status="已废止（测试）")
    problems = manifest.check("test-std", meta)
    assert len(problems) == 1
    assert problems[0].startswith("test-std: status")


def test_check_reports_several_differences(manifest):
    meta = dict(AGREEING_META, title="测试其他标准", doc_number="", effective="2024-01-01")
    problems = manifest.check("test-std", meta)
    assert [p.split(" ")[1] for p in problems] == ["title", "doc_number", "effective"]


def test_check_reports_unknown_slug(manifest):
    problems = manifest.check("unknown-std", AGREEING_META)
    assert len(problems) == 1
    assert "unknown-std" in problems[0]


def test_load_manifest_from_path(tmp_path):
    path = tmp_path / "manifest.yaml"
    path.write_text(
        "documents:\n  - slug: test-std\n    title: 测试标准\n    issued: \"2023-04-14\"\n", encoding="utf-8")
    manifest = load_manifest(path)
    assert list(manifest.entries) == ["test-std"]
    assert manifest.get("test-std").issued == "2023-04-14"


# -- the real corpus ------------------------------------------------------------------------
def corpus_files(corpus_dir: Path) -> list[Path]:
    return [p for sub in ("laws", "standards") for p in sorted((corpus_dir / sub).glob("*.md"))
            if p.name != "README.md"]


@pytest.mark.corpus
def test_every_corpus_file_agrees_with_manifest(corpus_dir):
    manifest = load_manifest()
    files = corpus_files(corpus_dir)
    assert files
    problems = []
    for path in files:
        [source] = load_file(path)
        if manifest.get(source.slug) is None:
            problems.append(f"{path.name}: no manifest entry for {source.slug}")
            continue
        problems += manifest.check(source.slug, source.meta)
    assert problems == []


@pytest.mark.corpus
def test_every_manifest_entry_has_a_file(corpus_dir):
    manifest = load_manifest()
    slugs = {load_file(p)[0].slug for p in corpus_files(corpus_dir)}
    assert sorted(set(manifest.entries) - slugs) == []
