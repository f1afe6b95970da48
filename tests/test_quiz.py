"""Quiz generation, validation and exports: pure helpers on made-up texts, the validator on
hand-made bad questions, and generation over the real corpus."""

from __future__ import annotations

import io
import random
import re
from dataclasses import replace

import pytest

from assistant.criteria import Alternative, Condition, Criterion, build_registry
from assistant.quiz import QuizRequestError, flips, generate_quiz, option_text
from assistant.quiz_check import QuizChecker
from assistant.quiz_model import (
    BLANK,
    FALSE_ZH,
    TRUE_ZH,
    Question,
    Quiz,
    QuizRequest,
    QuizScope,
)
from assistant.quiz_numbers import find_numbers, wrong_versions
from eval.quiz import evaluate
from ingest.annotations import load_annotations


# -- pure helpers on made-up texts ----------------------------------------------------------------
def test_penalty_range_is_one_number_with_its_unit():
    spans = find_numbers("责令限期改正，处二万元以上五万元以下的罚款；逾期未改正的，处五万元以上十万元以下的罚款")
    assert [(s.text, s.kind, s.values) for s in spans] == [
        ("二万元以上五万元以下", "range", (2.0, 5.0)), ("五万元以上十万元以下", "range", (5.0, 10.0))]


def test_article_numbers_years_and_terms_are_not_quiz_numbers():
    text = "第十一条 本条例自2007年6月1日起施行，处上一年年收入百分之四十的罚款，设置二次保护装置"
    found = [s.text for s in find_numbers(text)]
    assert found == ["2007年6月1日", "百分之四十"]


def test_wrong_numbers_keep_unit_and_notation_and_differ():
    for text in ("间距小于30米", "甲烷浓度达到1.0%时", "处二万元以上五万元以下的罚款", "处上一年年收入百分之四十的罚款"):
        span = find_numbers(text)[0]
        wrongs = wrong_versions(span, random.Random(3), "hard")
        assert len(wrongs) >= 3, text
        for w in wrongs:
            assert w != span.text
            again = find_numbers(w)
            assert again and again[0].unit == span.unit and again[0].notation == span.notation, (text, w)
    percent = find_numbers("百分之四十")[0]
    assert all(v[0] % 10 == 0 for v in (find_numbers(w)[0].values for w in wrong_versions(percent, random.Random(1))))


def test_option_text_drops_marker_and_closing_punctuation_only():
    assert option_text("（三）熔融金属铸造环节未设置紧急排放设施的（倾动式熔炼炉除外）；") == \
        "熔融金属铸造环节未设置紧急排放设施的（倾动式熔炼炉除外）"
    assert option_text("十二、涉及可燃和有毒有害气体泄漏的场所未设置报警装置。") == "涉及可燃和有毒有害气体泄漏的场所未设置报警装置"
    assert option_text("b) 固定式压力容器改做移动式压力容器使用。") == "固定式压力容器改做移动式压力容器使用"


def _criterion(text: str, conditions: tuple[Condition, ...]) -> Criterion:
    return Criterion("x:1:1", "x", text, "", ("轻工",), (), (Alternative("", conditions),))


def test_flip_uses_annotated_contra_word_and_skips_negated_context():
    c = _criterion("粉尘爆炸危险场所设置在非框架结构的多层建筑物内",
                   (Condition("多层", terms=("多层",), contra=("单层",)),))
    flipped = {t for t, _, _ in flips(c.text, c)}
    assert "粉尘爆炸危险场所设置在框架结构的多层建筑物内" in flipped
    assert "粉尘爆炸危险场所设置在非框架结构的单层建筑物内" in flipped
    # 框架结构 inside 非框架结构 must not be flipped into 非非框架结构
    assert not any("非非" in t for t in flipped)


def test_no_flip_when_another_branch_would_keep_the_hazard():
    text = "冷却水系统未设置监测报警装置，或者监测报警装置未与控制系统联锁的"
    assert flips(text, None) == []


# -- the validator on hand-made questions over the real corpus ------------------------------------
@pytest.fixture(scope="module")
def corpus(real_index):
    annotations, scopes = load_annotations()
    return real_index.store, build_registry(real_index.store, annotations, scopes)


@pytest.fixture(scope="module")
def checker(corpus):
    return QuizChecker(*corpus)


GONGMAO_5_3 = "gongmao-major-hazard:5:3"  # 有色: 熔融金属铸造环节未设置紧急排放和应急储存设施的（…除外）
GONGMAO_4_1 = "gongmao-major-hazard:4:1"  # 冶金
GONGMAO_8_7 = "gongmao-major-hazard:8:7"  # 轻工: 锂离子电池储存仓库未对故障电池采取有效物理隔离措施的
METAL_SCOPE = QuizScope(("gongmao-major-hazard",), industry="有色")


def good_choice(store) -> Question:
    """A single-choice question for 有色 that the validator must accept."""
    keyed = option_text(store.clause(GONGMAO_5_3).text)
    return Question(
        id="t1", type="single", family="criterion_choice", difficulty="medium",
        stem="依据《工贸企业重大事故隐患判定标准》，对于有色企业，下列情形中，应当判定为重大事故隐患的是（ ）。",
        options={"A": option_text(store.clause(GONGMAO_8_7).text), "B": keyed,
                 "C": "带式输送机未安设烟雾监测装置或者失效",
                 "D": keyed.replace("未设置", "已设置")},
        answer="B", explanation="B项见第五条第（三）项。", citations=(store.citation(GONGMAO_5_3),),
        support={"B": GONGMAO_5_3}, scope=METAL_SCOPE)


def codes(checker, q) -> set[str]:
    return {p.code for p in checker.check(q)}


def test_validator_accepts_a_sound_question(checker, corpus):
    assert checker.check(good_choice(corpus[0])) == []


def test_validator_rejects_keyed_option_not_in_corpus(checker, corpus):
    q = good_choice(corpus[0])
    q = replace(q, options={**q.options, "B": q.options["B"].replace("紧急排放", "紧急疏散")})
    assert "keyed_not_in_clause" in codes(checker, q)


def test_validator_rejects_two_equal_options(checker, corpus):
    q = good_choice(corpus[0])
    q = replace(q, options={**q.options, "C": q.options["A"] + "。"})
    assert "options_equivalent" in codes(checker, q)


def test_validator_rejects_a_distractor_that_is_a_criterion_in_scope(checker, corpus):
    store = corpus[0]
    q = good_choice(store)
    in_scope = option_text(store.clause("gongmao-major-hazard:5:1").text)  # another 有色 item
    assert "distractor_in_corpus" in codes(checker, replace(q, options={**q.options, "A": in_scope}))


def test_validator_rejects_a_near_miss_that_still_meets_a_criterion(checker, corpus):
    q = good_choice(corpus[0])
    # "已设置 … 或者 … 未设置" still states the hazard of another branch.
    sneaky = "熔融金属铸造环节的熔炼炉未设置紧急排放和应急储存设施"
    assert "distractor_implied" in codes(checker, replace(q, options={**q.options, "D": sneaky}))


def test_validator_rejects_answer_in_stem(checker, corpus):
    q = good_choice(corpus[0])
    stem = q.stem.replace("下列情形中", "“熔融金属铸造环节未设置紧急排放和应急储存设施的”等下列情形中")
    assert "stem_reveals" in codes(checker, replace(q, stem=stem))


def test_validator_rejects_stem_sharing_keyed_only_words(checker, corpus):
    store = corpus[0]
    q = good_choice(store)
    # Without the near miss, only the keyed option speaks of 熔融金属铸造: a stem naming it gives it away.
    q = replace(q, options={**q.options, "D": option_text(store.clause("gongmao-major-hazard:10:1").text)})
    assert checker.check(q) == []
    assert "stem_reveals" in codes(checker, replace(q, stem=q.stem.replace("有色企业", "有熔融金属铸造环节的有色企业")))


def test_validator_rejects_fill_answer_recoverable_from_stem(checker, corpus):
    store = corpus[0]
    text = option_text(store.clause(GONGMAO_8_7).text)
    frame = text.replace("锂离子电池", BLANK, 1)
    q = Question(id="t2", type="fill", family="term_fill", difficulty="easy",
                 stem=f"依据第八条第（七）项（锂离子电池），填空：“{frame}”。", options={}, answer="锂离子电池",
                 explanation="", citations=(store.citation(GONGMAO_8_7),), frame=frame,
                 support={"answer": GONGMAO_8_7}, scope=QuizScope(("gongmao-major-hazard",)))
    assert "stem_reveals" in codes(checker, q)
    assert checker.check(replace(q, stem=f"依据第八条第（七）项，填空：“{frame}”。")) == []


def test_validator_rejects_false_judge_that_is_true_and_forged_quotes(checker, corpus):
    store = corpus[0]
    text = option_text(store.clause(GONGMAO_8_7).text)
    judge = Question(id="t3", type="judge", family="criterion_judge", difficulty="easy",
                     stem=f"依据《工贸企业重大事故隐患判定标准》，“{text}”，应当判定为重大事故隐患。", options={},
                     answer=FALSE_ZH, explanation="", citations=(store.citation(GONGMAO_8_7),), frame=text,
                     scope=QuizScope(("gongmao-major-hazard",), industry="轻工"))
    assert "distractor_in_corpus" in codes(checker, judge)
    true_judge = replace(judge, answer=TRUE_ZH, support={TRUE_ZH: GONGMAO_8_7})
    assert checker.check(true_judge) == []
    forged = replace(store.citation(GONGMAO_8_7), quote="锂离子电池储存仓库应当隔离故障电池。")
    assert "citation_mismatch" in codes(checker, replace(true_judge, citations=(forged,)))
    unknown = replace(store.citation(GONGMAO_8_7), clause_id="gongmao-major-hazard:8:99")
    assert "citation_unknown" in codes(checker, replace(true_judge, citations=(unknown,)))


# -- generation over the real corpus --------------------------------------------------------------
def request(**kw) -> QuizRequest:
    base = {"documents": ("gongmao-major-hazard", "work-safety-law"), "single": 4, "multiple": 3, "judge": 4, "fill": 4, "seed": 7}
    return QuizRequest(**{**base, **kw})


def test_same_seed_same_quiz_and_other_seed_another(corpus):
    first = generate_quiz(*corpus, request())
    again = generate_quiz(*corpus, request())
    other = generate_quiz(*corpus, request(seed=8))
    assert first.to_dict() == again.to_dict()
    assert first.id == again.id != other.id
    assert [q.stem for q in first.questions] != [q.stem for q in other.questions]


def test_quiz_has_requested_counts_and_complete_questions(corpus):
    quiz = generate_quiz(*corpus, request(difficulty="hard"))
    assert quiz.produced == quiz.requested == {"single": 4, "multiple": 3, "judge": 4, "fill": 4}
    store = corpus[0]
    for q in quiz.questions:
        assert q.explanation and re.search(r"[\u4e00-\u9fff]", q.explanation)
        assert q.citations and all(c.quote == store.clause(c.clause_id).text for c in q.citations)
        assert any(c.citation in q.explanation or c.clause_id for c in q.citations)
        assert {c.clause_id.split(":")[0] for c in q.citations} <= {"gongmao-major-hazard", "work-safety-law"}
        if q.type == "multiple":
            assert 2 <= len(q.answer) <= len(q.options) - 2 and len(q.options) == 6  # hard: six options


def test_industry_quiz_keys_only_that_industrys_criteria(corpus):
    store, registry = corpus
    quiz = generate_quiz(store, registry, QuizRequest(industries=("有色",), single=6, multiple=3, seed=2))
    for q in quiz.questions:
        for clause_id in q.support.values():
            assert "有色" in registry.criteria[clause_id].industries, (q.stem, clause_id)


@pytest.mark.parametrize("kw, message", [
    ({"documents": ("no-such-doc",)}, "未知文档"),
    ({"documents": ("fire-major-hazard",)}, "没有正文"),
    ({"industries": ("航天",)}, "未知行业"),
    ({"single": 0, "multiple": 0, "judge": 0, "fill": 0}, "数量为0"),
    ({"single": 201}, "0到200"),
])
def test_bad_requests_are_refused_in_chinese(corpus, kw, message):
    with pytest.raises(QuizRequestError, match=message):
        generate_quiz(*corpus, request(**kw))


def test_corpus_wide_generation_passes_independent_validation(corpus):
    # 500 questions take a few seconds (generation ~3-4 s, validation < 1 s): the whole eval runs here.
    report = evaluate(*corpus, count=500, seed=1)
    assert report["produced"] >= 490
    assert report["failures"] == 0, report["failed_questions"][:3]
    assert all(report["per_type"][t]["questions"] > 50 for t in ("single", "multiple", "judge", "fill"))
    assert len(report["documents"]) >= 15


# -- exports ---------------------------------------------------------------------------------------
def test_exports_open_and_contain_every_question(corpus):
    from docx import Document
    from openpyxl import load_workbook

    from api.quiz_export import XLSX_HEADER, to_docx, to_json, to_markdown, to_xlsx

    quiz = generate_quiz(*corpus, request())
    assert Quiz.from_dict(__import__("json").loads(to_json(quiz))).to_dict() == quiz.to_dict()
    markdown = to_markdown(quiz).decode("utf-8")
    text = "\n".join(p.text for p in Document(io.BytesIO(to_docx(quiz))).paragraphs)
    answer_sheet = text.index("参考答案与解析")
    for q in quiz.questions:
        printed = q.stem.replace(BLANK, "________")
        assert printed in markdown
        assert text.index(printed) < answer_sheet  # the paper first …
        assert q.explanation in text[answer_sheet:]  # … the answers at the end
        for c in q.citations:
            assert c.citation in text[answer_sheet:]
    rows = list(load_workbook(io.BytesIO(to_xlsx(quiz))).active.iter_rows(values_only=True))
    assert rows[0] == XLSX_HEADER == ("题型", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F",
                                      "答案", "解析", "依据")
    assert len(rows) == len(quiz.questions) + 1
    for q, row in zip(quiz.questions, rows[1:]):
        assert row[0] == {"single": "单选题", "multiple": "多选题", "judge": "判断题", "fill": "填空题"}[q.type]
        assert row[1] == q.stem and row[8] == q.answer
        if q.type == "judge":
            assert row[8] in ("正确", "错误")
        if q.type in ("single", "multiple"):
            assert re.fullmatch(r"[A-F]+", row[8]) and all(row[2 + "ABCDEF".index(k)] == v for k, v in q.options.items())


def test_entries_of_sub_lists_are_never_asked_as_hazards_on_their_own(corpus):
    # "防隔水煤(岩)柱尺寸不小于20m" is an entry under "尺寸不符合下列规定之一的": no hazard by itself.
    from assistant.criteria import DETERMINATION, PART_HEADING

    store, registry = corpus
    quiz = generate_quiz(store, registry, QuizRequest(documents=("coal-major-hazard", "metal-mine-major-hazard"),
                                                      single=15, multiple=5, judge=20, seed=5))
    asked = [(q, c.clause_id) for q in quiz.questions if q.family in ("criterion_choice", "criterion_judge")
             for c in q.citations]
    assert len(asked) >= 20
    for q, clause_id in asked:
        lead = registry.criteria[clause_id].lead_in.strip().split("\n")[-1].rstrip("：: ")
        assert DETERMINATION.search(lead) or PART_HEADING.search(lead), (q.stem, clause_id)
