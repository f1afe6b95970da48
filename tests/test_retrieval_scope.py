"""The scope prior: a question naming no industry leans to the general laws, not a sector's standard."""

from __future__ import annotations

from assistant.lexical import BM25Index, Tokenizer
from assistant.model import Clause, Document
from assistant.retrieval import Retriever
from assistant.store import ClauseStore

CUES = {"电力": ["电厂", "发电"], "煤矿": ["瓦斯", "井下"]}


def _retriever(industry_cues=CUES) -> Retriever:
    docs = {"law": Document(slug="law", title="某安全法", clause_count=1),
            "power": Document(slug="power", title="电力重大隐患标准", clause_count=1, industries=("电力",))}
    # The sector clause repeats the query words, so without the prior it ranks first.
    texts = {"power:1": ("power", "第一条 发现重大隐患 报告 重大隐患 报告 电力企业应当报告。"),
             "law:1": ("law", "第一条 生产经营单位发现重大隐患应当报告。")}
    clauses = {cid: Clause(cid, slug, "article", 1, text=t, order=i) for i, (cid, (slug, t)) in enumerate(texts.items())}
    store = ClauseStore(docs, clauses)
    tok = Tokenizer()
    ids = list(store.clauses)
    bm25 = BM25Index.build(ids, [tok.tokens(store.index_text(store.clauses[c])) for c in ids])
    return Retriever(store, bm25, tok, industry_cues=industry_cues)


def test_without_the_prior_the_repetitive_sector_clause_wins():
    assert _retriever({}).search("发现重大隐患要报告", k=2)[0].clause.clause_id == "power:1"


def test_a_question_naming_no_industry_prefers_the_general_law():
    assert _retriever().search("发现重大隐患要报告", k=2)[0].clause.clause_id == "law:1"


def test_naming_the_industry_or_its_cue_keeps_the_sector_document():
    assert _retriever().search("电力企业发现重大隐患要报告", k=2)[0].clause.clause_id == "power:1"
    assert _retriever().search("电厂发现重大隐患要报告", k=2)[0].clause.clause_id == "power:1"


def test_named_industries_come_from_names_and_cues():
    r = _retriever()
    assert r.named_industries("井下瓦斯超限") == {"煤矿"}
    assert r.named_industries("发电机组") == {"电力"}
    assert r.named_industries("有限空间作业") == set()


def test_preferred_documents_are_boosted():
    r = _retriever({})
    assert r.search("发现重大隐患要报告", k=2, prefer=("law",))[0].clause.clause_id == "law:1"
