"""Validate quiz questions against the clause store and the criteria registry (pure).

A question passes when exactly its keyed options are supported by the corpus (the keyed text is
quoted from its cited clause; no wrong option is found in, or implied by, the clauses and
criteria in scope), no two options say the same thing, the stem does not give the answer away,
and every citation resolves with its quote equal to the stored text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from .criteria import PRESENT, Alternative, Criterion, Registry
from .matching import evaluate_alternative, prepare, term_key
from .normalize import for_matching
from .quiz_model import (
    BLANK,
    FALSE_ZH,
    JUDGE,
    LETTERS,
    MULTIPLE,
    SINGLE,
    TRUE_ZH,
    TYPES,
    Question,
    QuizScope,
)
from .store import ClauseStore

_MARKER = re.compile(r"^(?:\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+、|\d+[.、]|[a-z]\))")
_EDGE_PUNCT = "；;。.，,：:、"
_CJK_OR_DIGIT = re.compile(r"[\u4e00-\u9fff0-9]")


@functools.lru_cache(maxsize=65536)
def key(text: str) -> str:
    """Matching key of an option or clause text: normalized, item marker and edge punctuation off."""
    k = for_matching(text)
    k = _MARKER.sub("", k)
    return k.strip(_EDGE_PUNCT)


def _option_key(text: str) -> str:
    # "…的" and "…" state the same thing as options.
    k = key(text)
    return k.removesuffix("的")


def claim_of(question: Question, filler: str) -> str:
    """What choosing `filler` asserts: the frame with the gap filled, or the option itself."""
    if question.frame and BLANK in question.frame:
        return question.frame.replace(BLANK, filler)
    return filler if not question.frame else question.frame


def trigrams(text: str) -> set[str]:
    k = for_matching(text)
    return {k[i:i + 3] for i in range(len(k) - 2) if all(_CJK_OR_DIGIT.match(ch) for ch in k[i:i + 3])}


def _may_meet(alternative: Alternative, prepared: str) -> bool:
    """Cheap pre-test: a branch can only be met when each of its conditions has one of its words
    (or, for a stated fact, a contradicting word read as negated) somewhere in the text."""
    for condition in alternative.conditions:
        words = condition.terms + (condition.contra if condition.kind == PRESENT else ())
        if not any(term_key(w) and term_key(w) in prepared for w in words):
            return False
    return True


@dataclass(frozen=True)
class QuestionProblem:
    question_id: str
    code: str
    message: str  # Chinese, shown to trainers when a quiz handed back for export fails


@dataclass
class _ScopeView:
    texts: list[str]  # keys of every in-scope clause text (parents without their items)
    criteria: list[Criterion]  # in-scope criteria the matcher may test a wrong option against
    bodies: list[str]  # keys of the in-scope criteria texts


@dataclass
class QuizChecker:
    """Checks questions; caches what it derives per scope, so one checker serves a whole quiz."""

    store: ClauseStore
    registry: Registry
    _views: dict[QuizScope, _ScopeView] = field(default_factory=dict, repr=False)

    # -- scope ------------------------------------------------------------------------------
    def applies(self, criterion: Criterion, scope: QuizScope) -> bool:
        """Whether a criterion belongs to the scope's industry or domain (all do without one)."""
        if scope.industry:
            return scope.industry in criterion.industries
        if scope.domain:
            if criterion.domains:
                return scope.domain in criterion.domains
            doc = self.store.documents[criterion.doc_slug]
            # Provisions for every enterprise of the standard (工贸 第三条) bind each domain too.
            return set(criterion.industries) == set(doc.industries)
        return True

    def view(self, scope: QuizScope) -> _ScopeView:
        if scope in self._views:
            return self._views[scope]
        excluded = {cid for cid, c in self.registry.criteria.items()
                    if c.doc_slug in scope.documents and not self.applies(c, scope)}
        texts: list[str] = []
        for slug in scope.documents:
            for clause in self.store.clauses_of(slug):
                if clause.clause_id in excluded:
                    continue
                own = clause.text
                for child in self.store.children(clause.clause_id):
                    own = own.replace(child.text, "")
                if own.strip():
                    texts.append(key(own))
        criteria = [c for c in self.registry.criteria.values()
                    if c.doc_slug in scope.documents and c.clause_id not in excluded]
        view = _ScopeView(texts, [c for c in criteria if not c.catch_all], [key(c.text) for c in criteria])
        self._views[scope] = view
        return view

    def found_in_scope(self, text: str, scope: QuizScope) -> bool:
        """The text is stated by an in-scope clause, or states a whole in-scope criterion."""
        k = key(text)
        view = self.view(scope)
        if any(k in t for t in view.texts):
            return True
        return any(len(b) >= 8 and b in k for b in view.bodies)

    def implied_in_scope(self, text: str, scope: QuizScope) -> str:
        """The clause ID of an in-scope criterion whose branch the text meets (per the matcher)."""
        prepared = prepare(text)
        for criterion in self.view(scope).criteria:
            for alternative in criterion.alternatives:
                if _may_meet(alternative, prepared) and evaluate_alternative(alternative, prepared).status == "met":
                    return criterion.clause_id
        return ""

    # -- checks -----------------------------------------------------------------------------
    def check(self, q: Question) -> list[QuestionProblem]:
        problems: list[QuestionProblem] = []

        def fail(code: str, message: str) -> None:
            problems.append(QuestionProblem(q.id, code, message))

        if q.type not in TYPES:
            fail("type", f"题型“{q.type}”无效")
            return problems
        if not q.stem.strip():
            fail("stem", "题干为空")
        self._check_citations(q, fail)
        if q.type in (SINGLE, MULTIPLE):
            self._check_choice(q, fail)
        elif q.type == JUDGE:
            self._check_judge(q, fail)
        else:
            self._check_fill(q, fail)
        return problems

    def _check_citations(self, q: Question, fail) -> None:
        if not q.citations:
            fail("citation_missing", "没有引用依据")
        for citation in q.citations:
            if citation.clause_id not in self.store.clauses:
                fail("citation_unknown", f"引用的条款 {citation.clause_id} 不存在")
            elif citation != self.store.citation(citation.clause_id):
                fail("citation_mismatch", f"引用 {citation.clause_id} 的出处或原文与条款库不一致")
        cited = {c.clause_id for c in q.citations}
        for slot, clause_id in q.support.items():
            if clause_id not in cited:
                fail("support_uncited", f"{slot} 的依据条款 {clause_id} 未列入引用")
        for slug in q.scope.documents:
            if slug not in self.store.documents:
                fail("scope_unknown", f"范围中的文档 {slug} 不存在")

    def _supported(self, q: Question, slot: str, filler: str, fail) -> None:
        clause_id = q.support.get(slot)
        if not clause_id or clause_id not in self.store.clauses:
            fail("keyed_unsupported", f"答案 {slot} 没有可核对的依据条款")
            return
        if key(claim_of(q, filler)) not in key(self.store.clause(clause_id).text):
            fail("keyed_not_in_clause", f"答案 {slot} 与所引条款 {clause_id} 的原文不符")

    def _check_wrong(self, q: Question, slot: str, claim: str, fail) -> None:
        if not q.scope.documents:
            return
        if self.found_in_scope(claim, q.scope):
            fail("distractor_in_corpus", f"干扰项 {slot} 与范围内条款原文一致，实为正确说法")
            return
        implied = self.implied_in_scope(claim, q.scope)
        if implied:
            fail("distractor_implied", f"干扰项 {slot} 满足范围内判定条款 {implied} 的情形，实为正确说法")

    def _check_choice(self, q: Question, fail) -> None:
        letters = list(q.options)
        if len(letters) < 4 or letters != list(LETTERS[:len(letters)]):
            fail("options", "选项少于4个或字母不连续")
        keyed = q.keyed
        if not keyed or any(k not in q.options for k in keyed) or list(q.answer) != sorted(set(q.answer)):
            fail("answer_format", f"答案“{q.answer}”不是有效的选项字母")
            return
        if q.type == SINGLE and len(keyed) != 1:
            fail("answer_format", "单选题应恰有一个正确选项")
        if q.type == MULTIPLE and not 2 <= len(keyed) < len(letters):
            fail("answer_format", "多选题应有至少两个正确选项，且不能全选")
        keys = [_option_key(claim_of(q, t)) if q.frame else _option_key(t) for t in q.options.values()]
        if len(set(keys)) != len(keys):
            fail("options_equivalent", "有两个选项内容相同")
        for letter in keyed:
            self._supported(q, letter, q.options[letter], fail)
        for letter, text in q.options.items():
            if letter not in keyed:
                self._check_wrong(q, letter, claim_of(q, text), fail)
        self._check_stem(q, [q.options[k] for k in keyed], [t for k, t in q.options.items() if k not in keyed], fail)

    def _check_stem(self, q: Question, keyed: list[str], wrong: list[str], fail) -> None:
        stem = key(q.stem)
        if q.frame:
            for text in keyed:
                if key(text) and key(text) in stem:
                    fail("stem_reveals", "题干中已出现答案")
            return
        wrong_grams = set().union(*(trigrams(t) for t in wrong)) if wrong else set()
        stem_grams = trigrams(q.stem)
        for text in keyed:
            if _option_key(text) in stem:
                fail("stem_reveals", "题干中已出现答案")
            elif (trigrams(text) - wrong_grams) & stem_grams:
                words = "、".join(sorted((trigrams(text) - wrong_grams) & stem_grams)[:3])
                fail("stem_reveals", f"题干与正确选项共有干扰项没有的词（{words}），可凭题干猜出答案")

    def _check_judge(self, q: Question, fail) -> None:
        if q.options:
            fail("options", "判断题不应有选项")
        if q.answer not in (TRUE_ZH, FALSE_ZH):
            fail("answer_format", f"判断题答案应为“{TRUE_ZH}”或“{FALSE_ZH}”")
            return
        if not q.frame or key(q.frame) not in key(q.stem):
            fail("frame", "判断的表述未出现在题干中")
            return
        if q.answer == TRUE_ZH:
            self._supported(q, TRUE_ZH, q.frame, fail)
        else:
            self._check_wrong(q, "表述", q.frame, fail)

    def _check_fill(self, q: Question, fail) -> None:
        if q.options:
            fail("options", "填空题不应有选项")
        if not q.answer.strip():
            fail("answer_format", "填空题答案为空")
            return
        if q.frame.count(BLANK) != 1 or q.stem.count(BLANK) != 1:
            fail("frame", "填空题应恰有一个空")
            return
        self._supported(q, "answer", q.answer, fail)
        if key(q.answer) in key(q.stem.replace(BLANK, "")):
            fail("stem_reveals", "题干中已出现答案")


def check_question(question: Question, store: ClauseStore, registry: Registry) -> list[QuestionProblem]:
    return QuizChecker(store, registry).check(question)


def check_questions(questions, store: ClauseStore, registry: Registry) -> list[QuestionProblem]:
    checker = QuizChecker(store, registry)
    return [p for q in questions for p in checker.check(q)]
