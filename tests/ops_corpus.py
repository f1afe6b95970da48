"""A small made-up corpus and a BM25-only index over it, for the upload, rebuild and backup tests."""

from __future__ import annotations

from pathlib import Path

from api.settings import Settings

DOC_A = """---
title: 测试行业甲重大事故隐患判定标准
doc_number: 测试令第1号
kind: 部门规章
status: 现行有效
complete: true
---
# 测试行业甲重大事故隐患判定标准

第一条 为了测试，制定本标准。

第二条 测试企业有下列情形之一的，应当判定为重大事故隐患：
（一）反应釜未设置温度监测报警装置的；
（二）仓库内设置员工宿舍的。
"""

DOC_B = """---
title: 测试行业乙安全规定
doc_number: 测试令第2号
kind: 部门规章
status: 现行有效
complete: true
---
# 测试行业乙安全规定

第一条 乙企业应当每年组织一次应急演练。

第二条 乙企业的叉车司机应当持证上岗。
"""

# The document an admin uploads: its words (氢氟酸, 防腐蚀) appear nowhere in DOC_A or DOC_B.
UPLOADED = """---
title: 测试行业丙氢氟酸储存规定
slug: test-hf-storage
doc_number: 测试令第3号
kind: 部门规章
status: 现行有效
---
# 测试行业丙氢氟酸储存规定

第一条 氢氟酸储罐应当采用防腐蚀材质，并设置围堰。

第二条 氢氟酸装卸作业应当有专人监护。
"""


def write_corpus(corpus: Path) -> Path:
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "test-a.md").write_text(DOC_A, encoding="utf-8")
    (corpus / "test-b.md").write_text(DOC_B, encoding="utf-8")
    return corpus


def ingest_bm25(corpus: Path, data_dir: Path):
    """Index `corpus` (plus uploads) in `data_dir` without embeddings, as `hazard ingest` would."""
    from api.live_index import ingest_corpus

    return ingest_corpus(bm25_settings(corpus, data_dir))


def bm25_settings(corpus: Path, data_dir: Path, **overrides) -> Settings:
    values = {"corpus_dir": corpus, "data_dir": data_dir, "embeddings": "none",
              "database_url": f"sqlite:///{data_dir / 'hazard.sqlite3'}", "index_watch_seconds": 0.5}
    values.update(overrides)
    return Settings(**values)
