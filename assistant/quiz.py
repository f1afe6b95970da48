"""Generate trainers' quizzes from the clause store and the criteria registry (pure).

Question families:
- which of these is a 重大事故隐患 for an industry or special domain (single or multiple choice):
  keyed options are criteria as written; wrong ones are criteria of other industries or domains,
  near misses with one condition flipped (框架↔非框架, 未↔已 …) and wrong thresholds;
- judge: a criterion or a provision as written, or with a flipped condition or a wrong number;
- numbers: thresholds, dates and penalty ranges with plausible wrong numbers (same unit);
- fill: a blank over a number with its unit, a duty holder or a key term of a clause.

Every question is validated (`quiz_check`) before it is returned; one that fails is built again
from other material, or dropped. Same request and seed → the same quiz: one `random.Random(seed)`,
inputs sorted, nothing iterated in set or hash order.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, replace

from .citation import human_citation
from .criteria import DETERMINATION, PART_HEADING, Criterion, Registry
from .matching import evaluate_alternative, prepare
from .model import Clause
from .quiz_check import QuizChecker, key
from .quiz_model import (
    BLANK,
    CRITERION_CHOICE,
    CRITERION_JUDGE,
    DIFFICULTIES,
    DUTY_FILL,
    FALSE_ZH,
    FILL,
    JUDGE,
    LETTERS,
    MULTIPLE,
    NUMBER_CHOICE,
    NUMBER_FILL,
    NUMBER_JUDGE,
    SINGLE,
    TERM_FILL,
    TRUE_ZH,
    TYPE_ZH,
    TYPES,
    Question,
    Quiz,
    QuizRequest,
    QuizScope,
)
from .quiz_numbers import NumberSpan, find_numbers, wrong_versions
from .store import ClauseStore

MAX_TOTAL = 200  # questions per request (API and CLI); the eval asks the library for more
MAX_OPTION_CHARS = 100
MAX_FRAME_CHARS = 130
ATTEMPTS = 8  # tries per question before it is dropped

DOMAIN_LABEL = {"粉尘涉爆": "存在粉尘爆炸危险的工贸企业", "涉氨制冷": "使用液氨制冷的工贸企业",
                "有限空间": "有限空间作业", "金属冶炼": "金属冶炼企业"}
# Who a provision binds: blanks for duty-holder fill questions (longest first).
DUTY_HOLDERS = ("负有安全生产监督管理职责的部门", "县级以上地方各级人民政府", "安全生产管理人员", "生产经营单位",
                "主要负责人", "特种作业人员", "从业人员", "承包单位", "承租单位", "安全生产管理机构",
                "注册安全工程师", "应急管理部门", "施工单位", "建设单位", "监理单位", "使用单位", "工会")
# One condition flipped, as exam papers do it: (as written, flipped). Only these directions: the
# reverse of a one-character word (有 → 没有) would hit 有限空间, 有效措施 ….
FLIPS = (("非框架结构", "框架结构"), ("框架结构", "非框架结构"), ("未设置", "已设置"), ("已设置", "未设置"),
         ("未按照规定", "已按照规定"), ("未按规定", "已按规定"), ("不符合", "符合"), ("符合", "不符合"),
         ("未经", "经"), ("没有", "有"), ("不能", "能"), ("超过", "未超过"), ("不小于", "小于"), ("小于", "不小于"),
         ("大于", "不大于"), ("低于", "不低于"), ("失效", "有效"), ("擅自", "经批准"), ("多层", "单层"),
         ("单层", "多层"), ("未", "已"))
_NEGATION_PREFIX = ("非", "不", "未", "无")
_MARKER = re.compile(r"^\s*(?:[（(](?:[一二三四五六七八九十]+|\d{1,2})[)）]|[一二三四五六七八九十]+、|\d+[.．、]|[a-zA-Z]\)\s*)")
_HEADING = re.compile(r"^第[一二三四五六七八九十百零〇]+条\s*")
_NO_PREFIX_FLIP = ("尚", "从", "并", "仍")  # 尚未 / 从未 / 仍未 read badly as 尚已 / 仍已 …


class QuizRequestError(ValueError):
    """A request the generator cannot serve; the message is Chinese and shown to the user."""


# -- request -----------------------------------------------------------------------------------

def known_industries(registry: Registry) -> list[str]:
    return sorted({i for c in registry.criteria.values() for i in c.industries})


def known_domains(registry: Registry) -> list[str]:
    return sorted({d for c in registry.criteria.values() for d in c.domains})


def check_request(request: QuizRequest, store: ClauseStore, registry: Registry, max_total: int = MAX_TOTAL) -> None:
    """Raise QuizRequestError (Chinese) for an unknown document, industry or domain, or bad counts."""
    for slug in request.documents:
        doc = store.documents.get(slug)
        if doc is None:
            raise QuizRequestError(f"未知文档：{slug}（可用 hazard docs 查看文档列表）")
        if doc.metadata_only:
            raise QuizRequestError(f"文档 {slug}（{doc.title}）只有元数据、没有正文，无法出题")
    industries = known_industries(registry)
    for industry in request.industries:
        if industry not in industries:
            raise QuizRequestError(f"未知行业：{industry}；可选：{'、'.join(industries)}")
    domains = known_domains(registry)
    for domain in request.domains:
        if domain not in domains:
            raise QuizRequestError(f"未知专项领域：{domain}；可选：{'、'.join(domains)}")
    if request.difficulty not in DIFFICULTIES:
        raise QuizRequestError(f"难度应为 {'、'.join(DIFFICULTIES)} 之一")
    counts = request.counts()
    for qtype, n in counts.items():
        if not 0 <= n <= max_total:
            raise QuizRequestError(f"{TYPE_ZH[qtype]}数量应在0到{max_total}之间（收到 {n}）")
    total = sum(counts.values())
    if total == 0:
        raise QuizRequestError("题目数量为0：请至少指定一种题型的数量")
    if total > max_total:
        raise QuizRequestError(f"题目总数 {total} 超过上限 {max_total}")


def quiz_id(request: QuizRequest) -> str:
    canonical = json.dumps(request.to_dict(), ensure_ascii=False, sort_keys=True)
    return "quiz-" + hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:12]


# -- text helpers ------------------------------------------------------------------------------

def option_text(clause_text: str) -> str:
    """A clause as an option: item marker and closing punctuation off, wording untouched."""
    text = _MARKER.sub("", clause_text.strip())
    return text.rstrip("；;。.，, ").strip()


def branches(text: str) -> list[str]:
    """The 或者-branches of a criterion as written (each is a hazard on its own)."""
    parts = [p.strip("，,；; ") for p in re.split(r"[，；]或者", text)]
    return [p for p in parts if len(p) >= 15] if len(parts) > 1 else []


def similarity(a: str, b: str) -> float:
    ga, gb = _bigrams(a), _bigrams(b)
    return len(ga & gb) / (len(ga | gb) or 1)


@functools.lru_cache(maxsize=16384)
def _bigrams(text: str) -> frozenset[str]:
    k = key(text)
    return frozenset(k[i:i + 2] for i in range(len(k) - 1))


def _flip_pairs(criterion: Criterion) -> list[tuple[str, str]]:
    """Flips read from the annotations: a term of the text against its contra word (多层/单层,
    非框架/框架结构), paired only when the two words differ by a negation or one character."""
    pairs: list[tuple[str, str]] = []
    for alternative in criterion.alternatives:
        for condition in alternative.conditions:
            for term in condition.terms:
                if term not in criterion.text:
                    continue
                for contra in condition.contra:
                    if contra == term:
                        continue
                    if contra in (p + term for p in _NEGATION_PREFIX):
                        pairs.append((term, contra))
                    elif term.startswith(_NEGATION_PREFIX) and contra.startswith(term[1:]):
                        pairs.append((term, term[1:]))
                    elif len(term) == len(contra) and sum(a != b for a, b in zip(term, contra)) == 1:
                        pairs.append((term, contra))
    return pairs


# Words that state a deficiency; a text with two of them and an 或 lists two hazards, and flipping
# one leaves the other standing ("已设置报警装置，或者报警装置未与…联锁的" is still a hazard).
DEFICIENCY = re.compile(r"未|不|没有|缺|失效|无|非|超过|擅自|违反|少于|小于|大于|低于")


def flips(text: str, criterion: Criterion | None) -> list[tuple[str, str, str]]:
    """(flipped text, old words, new words) for each single condition flip that applies."""
    out: list[tuple[str, str, str]] = []
    if re.search(r"或|；", text) and len(DEFICIENCY.findall(text)) > 1:
        return out
    pairs = (_flip_pairs(criterion) if criterion else []) + list(FLIPS)
    seen: set[str] = set()
    for old, new in pairs:
        i = text.find(old)
        while i >= 0:
            before = text[i - 1:i] if i else ""
            # "框架结构" inside "非框架结构" is not a 框架结构; 已 inside 尚未 reads badly.
            inside_negation = before in _NEGATION_PREFIX and not old.startswith(_NEGATION_PREFIX)
            if not inside_negation and before not in _NO_PREFIX_FLIP:
                flipped = text[:i] + new + text[i + len(old):]
                if flipped not in seen and flipped != text:
                    seen.add(flipped)
                    out.append((flipped, old, new))
                break
            i = text.find(old, i + 1)
    return out


def number_variants(text: str, rng: random.Random, difficulty: str) -> list[tuple[str, str, str]]:
    """(text with one wrong number, the number as written, the wrong one)."""
    out = []
    for span in find_numbers(text):
        for wrong in wrong_versions(span, rng, difficulty, limit=2):
            out.append((text[:span.start] + wrong + text[span.end:], span.text, wrong))
    return out


def excerpt(text: str, start: int, end: int, limit: int = MAX_FRAME_CHARS) -> tuple[int, int]:
    """Bounds of the sentence around [start, end), cut at ；/， so it stays under `limit`."""
    left = max(text.rfind(ch, 0, start) for ch in "。\n") + 1
    right_candidates = [i for i in (text.find(ch, end) for ch in "。\n") if i >= 0]
    right = min(right_candidates) if right_candidates else len(text)
    for cut in "；，":
        if right - left <= limit:
            break
        semi = text.rfind(cut, left, start)
        if semi >= 0 and right - semi - 1 >= 12:
            left = semi + 1
        if right - left > limit:
            nxt = text.find(cut, end, right)
            if nxt >= 0:
                right = nxt
    heading = _HEADING.match(text[left:right])
    if heading:
        left += heading.end()
    marker = _MARKER.match(text[left:right])
    if marker:
        left += marker.end()
    while right > left and text[right - 1] in "；;，,：:。 ":
        right -= 1
    return left, right


# -- the generator ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Group:
    """Criteria asked about together: one standard, one industry or domain (or the whole standard)."""

    scope: QuizScope
    doc: str
    label: str  # "冶金企业", "存在粉尘爆炸危险的工贸企业" …; empty when the standard is the scope
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class _Wrong:
    text: str
    note: str  # why it is wrong, for the explanation


@dataclass(frozen=True)
class _Site:
    """A number in a clause: the clause, the excerpt around it and the number's position in it."""

    clause: Clause
    excerpt: str
    span: NumberSpan  # relative to the excerpt


class QuizGenerator:
    def __init__(self, store: ClauseStore, registry: Registry, request: QuizRequest):
        self.store = store
        self.registry = registry
        self.request = request
        self.rng = random.Random(request.seed)
        self.checker = QuizChecker(store, registry)
        self.difficulty = request.difficulty
        self.used: set[str] = set()
        self.dropped: Counter[str] = Counter()
        self.groups = self._groups()
        self.sites = self._number_sites()
        self.duty_sites = self._duty_sites()
        self._implied_cache: dict[tuple[QuizScope, str], bool] = {}
        self._pools: dict[QuizScope, list[tuple[Criterion, str]]] = {}

    # -- material ------------------------------------------------------------------------
    def _eligible(self, c: Criterion) -> bool:
        r = self.request
        if c.catch_all or "<" in c.text:
            return False
        if r.documents and c.doc_slug not in r.documents:
            return False
        if r.industries or r.domains:
            return bool(set(r.industries) & set(c.industries)) or bool(set(r.domains) & set(c.domains))
        return True

    def _scope_docs(self, industry: str = "", domain: str = "") -> tuple[str, ...]:
        return tuple(sorted({c.doc_slug for c in self.registry.criteria.values()
                             if (industry and industry in c.industries) or (domain and domain in c.domains)}))

    def _groups(self) -> list[_Group]:
        grouped: dict[tuple[QuizScope, str, str], list[Criterion]] = {}
        for cid in sorted(self.registry.criteria):
            c = self.registry.criteria[cid]
            if not self._eligible(c):
                continue
            doc = self.store.documents[c.doc_slug]
            if c.domains:
                domain = min(c.domains)
                scope = QuizScope(self._scope_docs(domain=domain), domain=domain)
                label = DOMAIN_LABEL.get(domain, domain)
            elif len(doc.industries) > 1 and len(c.industries) == 1:
                scope = QuizScope(self._scope_docs(industry=c.industries[0]), industry=c.industries[0])
                label = f"{c.industries[0]}企业"
            elif len(doc.industries) == 1:
                scope = QuizScope(self._scope_docs(industry=doc.industries[0]), industry=doc.industries[0])
                label = ""
            else:
                scope, label = QuizScope((c.doc_slug,)), "各类工贸企业" if doc.slug.startswith("gongmao") else ""
            grouped.setdefault((scope, c.doc_slug, label), []).append(c)
        return [_Group(scope, doc, label, tuple(cs)) for (scope, doc, label), cs in grouped.items()]

    def _law_docs(self) -> list[str]:
        r = self.request
        if r.documents:
            return [s for s in sorted(r.documents) if self.store.documents[s].role != "criteria"]
        if r.industries or r.domains:
            return []
        return sorted(s for s, d in self.store.documents.items() if d.role != "criteria" and d.clause_count)

    def _criteria_docs(self) -> list[str]:
        return sorted({g.doc for g in self.groups})

    def _number_sites(self) -> list[_Site]:
        sites: list[_Site] = []
        clauses: list[Clause] = []
        for slug in self._law_docs():
            clauses += [c for c in self.store.clauses_of(slug) if c.parent_id is None]
        for group in self.groups:
            clauses += [self.store.clause(c.clause_id) for c in group.criteria]
        for clause in clauses:
            if "<" in clause.text:
                continue
            for span in find_numbers(clause.text):
                left, right = excerpt(clause.text, span.start, span.end)
                # A list entry on its own line still belongs to the sentence that introduced it.
                sentence_start = clause.text.rfind("。", 0, span.start) + 1
                if re.search("[：:]", clause.text[sentence_start:left]):
                    continue  # one entry of a list ("下列地点未设置…：A；B；C"): no statement on its own
                text = clause.text[left:right]
                local = [s for s in find_numbers(text) if s.start == span.start - left]
                if local and len(text) >= 12:
                    sites.append(_Site(clause, text, local[0]))
        return sites

    def _duty_sites(self) -> list[tuple[Clause, str, str]]:
        out = []
        for slug in self._law_docs():
            for clause in self.store.clauses_of(slug):
                if clause.parent_id is not None:
                    continue
                for sentence in re.split(r"[。\n]", _HEADING.sub("", clause.text)):
                    if "应当" not in sentence or not 16 <= len(sentence) <= MAX_FRAME_CHARS:
                        continue
                    for duty in DUTY_HOLDERS:
                        if sentence.count(duty) == 1 and not any(d != duty and duty in d and d in sentence
                                                                 for d in DUTY_HOLDERS):
                            out.append((clause, sentence, duty))
                            break
        return out

    # -- helpers -----------------------------------------------------------------------------
    def _human(self, clause_id: str) -> str:
        clause = self.store.clause(clause_id)
        return human_citation(clause, self.store.document_of(clause))

    def _title(self, slug: str) -> str:
        return f"《{self.store.documents[slug].title}》"

    def _wrong_ok(self, text: str, scope: QuizScope) -> bool:
        cache_key = (scope, text)
        if cache_key not in self._implied_cache:
            self._implied_cache[cache_key] = not (self.checker.found_in_scope(text, scope)
                                                  or self.checker.implied_in_scope(text, scope))
        return self._implied_cache[cache_key]

    def _near_misses(self, criterion: Criterion, text: str, scope: QuizScope) -> list[_Wrong]:
        """One condition flipped or one number wrong, verified: the matcher reads the original as a
        hazard of this criterion and the changed text as none of the scope's criteria."""
        original = prepare(text)
        met = [a for a in criterion.alternatives if evaluate_alternative(a, original).status == "met"]
        if not met:
            return []
        out = []
        changes = [(t, f"把原文的“{o}”改成了“{n}”") for t, o, n in flips(text, criterion)]
        changes += [(t, f"数值与原文（{o}）不符") for t, o, n in number_variants(text, self.rng, self.difficulty)]
        self.rng.shuffle(changes)
        for changed, note in changes:
            if self._wrong_ok(changed, scope):
                out.append(_Wrong(changed, note))
            if len(out) >= 3:
                break
        return out

    def _criterion_texts(self, c: Criterion) -> list[str]:
        """The criterion as option or statement texts; none for an entry of a sub-list ("防隔水煤柱尺寸
        不符合下列规定之一的：1.…不小于20m"), whose words are no hazard on their own."""
        lead = c.lead_in.strip().split("\n")[-1].rstrip("：: ")
        if not (DETERMINATION.search(lead) or PART_HEADING.search(lead)):
            return []
        text = option_text(c.text)
        if len(text) <= MAX_OPTION_CHARS:
            return [text]
        # Only the first branch: later ones often lean on its subject ("…，或者监测数据未接入…").
        return [b for b in branches(text)[:1] if len(b) <= MAX_OPTION_CHARS]

    def _sibling_pool(self, group: _Group) -> list[tuple[Criterion, str]]:
        if group.scope not in self._pools:
            pool = []
            for cid in sorted(self.registry.criteria):
                c = self.registry.criteria[cid]
                if c.catch_all or "<" in c.text:
                    continue
                if c.doc_slug in group.scope.documents and self.checker.applies(c, group.scope):
                    continue
                pool += [(c, text) for text in self._criterion_texts(c)]
            self._pools[group.scope] = pool
        return self._pools[group.scope]

    def _siblings(self, group: _Group, keyed_texts: list[str], n: int) -> list[_Wrong]:
        """Criteria outside the scope, the most similar first for harder quizzes."""
        pool = self._sibling_pool(group)
        if not pool:
            return []
        scored = sorted(pool, key=lambda p: -max(similarity(p[1], k) for k in keyed_texts))
        if self.difficulty == "hard":
            candidates = scored[:12]
        elif self.difficulty == "medium":
            candidates = scored[:40]
        else:
            candidates = self.rng.sample(pool, min(len(pool), 40))
        candidates = list(candidates)
        self.rng.shuffle(candidates)
        out: list[_Wrong] = []
        for c, text in candidates:
            if len(out) >= n:
                break
            if any(key(text) == key(w.text) for w in out) or not self._wrong_ok(text, group.scope):
                continue
            where = self._human(c.clause_id)
            whose = self._group_label_of(c)
            out.append(_Wrong(text, f"出自{where}" + (f"，是{whose}的情形" if whose else "")))
        return out

    def _group_label_of(self, c: Criterion) -> str:
        if c.domains:
            return DOMAIN_LABEL.get(min(c.domains), "")
        doc = self.store.documents[c.doc_slug]
        if len(c.industries) == 1 and len(doc.industries) > 1:
            return f"{c.industries[0]}企业"
        return ""

    def _scope_phrase(self, group: _Group) -> str:
        return f"对于{group.label}，" if group.label else ""

    def _validated(self, question: Question) -> Question | None:
        problems = self.checker.check(question)
        for p in problems:
            self.dropped[p.code] += 1
        return None if problems else question

    # -- families ------------------------------------------------------------------------------
    def criterion_choice(self, qtype: str) -> Question | None:
        groups = [g for g in self.groups if any(self._criterion_texts(c) for c in g.criteria)]
        if not groups:
            return None
        group = self.rng.choice(groups)
        n_options = {"easy": 4, "medium": 4, "hard": 5}[self.difficulty] if qtype == SINGLE else \
            {"easy": 4, "medium": 5, "hard": 6}[self.difficulty]
        candidates = [(c, t) for c in group.criteria for t in self._criterion_texts(c)]
        if qtype == SINGLE:
            n_keyed = 1
        else:
            distinct = len({c.clause_id for c, _ in candidates})
            n_keyed = min(distinct, self.rng.randint(2, n_options - 2))
            if n_keyed < 2:
                return None
        self.rng.shuffle(candidates)
        keyed: list[tuple[Criterion, str]] = []
        for c, t in candidates:
            if len(keyed) < n_keyed and all(c.clause_id != k.clause_id for k, _ in keyed):
                keyed.append((c, t))
        signature = f"{qtype}:{sorted(c.clause_id for c, _ in keyed)}"
        if signature in self.used:
            return None
        n_wrong = n_options - n_keyed
        wrong: list[_Wrong] = []
        n_near = {"easy": 0, "medium": 1, "hard": 2}[self.difficulty]
        if n_near:
            near_pool = []
            for c, t in keyed:
                near_pool += self._near_misses(c, t, group.scope)
            self.rng.shuffle(near_pool)
            wrong += near_pool[:min(n_near, n_wrong)]
        wrong += self._siblings(group, [t for _, t in keyed], n_wrong - len(wrong))
        if len(wrong) < n_wrong:
            self.dropped["too_few_distractors"] += 1
            return None
        entries = [(t, True, c.clause_id, "") for c, t in keyed] + [(w.text, False, "", w.note) for w in wrong]
        self.rng.shuffle(entries)
        options = {LETTERS[i]: e[0] for i, e in enumerate(entries)}
        answer = "".join(LETTERS[i] for i, e in enumerate(entries) if e[1])
        support = {LETTERS[i]: e[2] for i, e in enumerate(entries) if e[1]}
        title = self._title(group.doc)
        stem = (f"依据{title}，{self._scope_phrase(group)}下列情形中，应当判定为重大事故隐患的是"
                + ("（ ）。" if qtype == SINGLE else "（ ）。（多选）"))
        basis = "；".join(f"{L}项见{self._human(cid)}" for L, cid in support.items())
        notes = "；".join(f"{LETTERS[i]}项{e[3]}" for i, e in enumerate(entries) if not e[1])
        explanation = f"{basis}，均为{group.label or '该标准'}列明的重大事故隐患。{notes}。故选{answer}。"
        if qtype == SINGLE:
            explanation = f"{basis}，为{group.label or '该标准'}列明的重大事故隐患。{notes}。故选{answer}。"
        citations = tuple(self.store.citation(cid) for cid in sorted(set(support.values()), key=list(support.values()).index))
        q = Question(id="", type=qtype, family=CRITERION_CHOICE, difficulty=self.difficulty, stem=stem,
                     options=options, answer=answer, explanation=explanation, citations=citations,
                     support=support, scope=group.scope)
        q = self._validated(q)
        if q:
            self.used.add(signature)
        return q

    def criterion_judge(self) -> Question | None:
        pairs = [(g, c, t) for g in self.groups for c in g.criteria for t in self._criterion_texts(c)]
        if not pairs:
            return None
        group, c, text = self.rng.choice(pairs)
        truth = self.rng.random() < 0.5
        statement, note = text, ""
        if not truth:
            near = self._near_misses(c, text, group.scope)
            if not near:
                return None
            statement, note = near[0].text, near[0].note
        signature = f"judge:{statement}"
        if signature in self.used:
            return None
        stem = f"依据{self._title(group.doc)}，{self._scope_phrase(group)}“{statement}”，应当判定为重大事故隐患。"
        where = self._human(c.clause_id)
        if truth:
            explanation = f"{where}原文即为此情形，应当判定为重大事故隐患，故正确。"
        else:
            explanation = f"该表述{note}；{where}原文为“{text}”，故错误。"
        q = Question(id="", type=JUDGE, family=CRITERION_JUDGE, difficulty=self.difficulty, stem=stem, options={},
                     answer=TRUE_ZH if truth else FALSE_ZH, explanation=explanation,
                     citations=(self.store.citation(c.clause_id),), frame=statement,
                     support={TRUE_ZH: c.clause_id} if truth else {}, scope=group.scope)
        q = self._validated(q)
        if q:
            self.used.add(signature)
        return q

    def _site_scope(self, site: _Site) -> QuizScope:
        return QuizScope((site.clause.doc_slug,))

    def _site(self) -> _Site | None:
        fresh = [s for s in self.sites if f"num:{s.clause.clause_id}:{s.excerpt}" not in self.used]
        return self.rng.choice(fresh) if fresh else None

    def number_choice(self) -> Question | None:
        site = self._site()
        if site is None:
            return None
        span = site.span
        frame = site.excerpt[:span.start] + BLANK + site.excerpt[span.end:]
        scope = self._site_scope(site)
        wrongs = [w for w in wrong_versions(span, self.rng, self.difficulty, limit=6)
                  if self._wrong_ok(frame.replace(BLANK, w), scope)]
        if len(wrongs) < 3:
            self.dropped["too_few_distractors"] += 1
            return None
        values = [span.text] + wrongs[:3]
        ordered = sorted(values, key=lambda v: _magnitude(v))
        options = {LETTERS[i]: v for i, v in enumerate(ordered)}
        answer = LETTERS[ordered.index(span.text)]
        where = self._human(site.clause.clause_id)
        stem = f"依据{where}，“{frame}”，横线处应为（ ）。"
        explanation = f"{where}规定为“{site.excerpt}”，故选{answer}（{span.text}）。"
        q = Question(id="", type=SINGLE, family=NUMBER_CHOICE, difficulty=self.difficulty, stem=stem, options=options,
                     answer=answer, explanation=explanation, citations=(self.store.citation(site.clause.clause_id),),
                     frame=frame, support={answer: site.clause.clause_id}, scope=scope)
        q = self._validated(q)
        if q:
            self.used.add(f"num:{site.clause.clause_id}:{site.excerpt}")
        return q

    def number_judge(self) -> Question | None:
        site = self._site()
        if site is None:
            return None
        truth = self.rng.random() < 0.5
        scope = self._site_scope(site)
        statement = site.excerpt
        wrong = ""
        if not truth:
            frame = site.excerpt[:site.span.start] + BLANK + site.excerpt[site.span.end:]
            options = [w for w in wrong_versions(site.span, self.rng, self.difficulty, limit=4)
                       if self._wrong_ok(frame.replace(BLANK, w), scope)]
            if not options:
                return None
            wrong = options[0]
            statement = frame.replace(BLANK, wrong)
        where = self._human(site.clause.clause_id)
        stem = f"依据{where}，“{statement}”。"
        if truth:
            explanation = f"{where}原文即为“{site.excerpt}”，故正确。"
        else:
            explanation = f"{where}规定的是“{site.span.text}”，不是“{wrong}”，故错误。"
        q = Question(id="", type=JUDGE, family=NUMBER_JUDGE, difficulty=self.difficulty, stem=stem, options={},
                     answer=TRUE_ZH if truth else FALSE_ZH, explanation=explanation,
                     citations=(self.store.citation(site.clause.clause_id),), frame=statement,
                     support={TRUE_ZH: site.clause.clause_id} if truth else {}, scope=scope)
        q = self._validated(q)
        if q:
            self.used.add(f"num:{site.clause.clause_id}:{site.excerpt}")
        return q

    def number_fill(self) -> Question | None:
        site = self._site()
        if site is None:
            return None
        frame = site.excerpt[:site.span.start] + BLANK + site.excerpt[site.span.end:]
        where = self._human(site.clause.clause_id)
        return self._fill(NUMBER_FILL, site.clause, frame, site.span.text,
                          f"{where}规定为“{site.excerpt}”，空白处应填“{site.span.text}”。",
                          f"num:{site.clause.clause_id}:{site.excerpt}")

    def term_fill(self) -> Question | None:
        pairs = []
        for group in self.groups:
            for c in group.criteria:
                text = option_text(c.text)
                if len(text) > MAX_FRAME_CHARS:
                    continue
                terms = sorted({t for a in c.alternatives for cond in a.conditions for t in cond.terms
                                if len(t) >= 3 and text.count(t) == 1 and len(t) < len(text) // 2})
                if terms:
                    longest = max(terms, key=lambda t: (len(t), t))
                    pairs.append((c, text, longest))
        if not pairs:
            return None
        c, text, term = self.rng.choice(pairs)
        frame = text.replace(term, BLANK, 1)
        where = self._human(c.clause_id)
        return self._fill(TERM_FILL, self.store.clause(c.clause_id), frame, term,
                          f"{where}原文为“{text}”，空白处应填“{term}”。", f"term:{c.clause_id}")

    def duty_fill(self) -> Question | None:
        fresh = [s for s in self.duty_sites if f"duty:{s[0].clause_id}:{s[1]}" not in self.used]
        if not fresh:
            return None
        clause, sentence, duty = self.rng.choice(fresh)
        frame = sentence.replace(duty, BLANK, 1)
        where = self._human(clause.clause_id)
        return self._fill(DUTY_FILL, clause, frame, duty, f"{where}规定：“{sentence}”，空白处应填“{duty}”。",
                          f"duty:{clause.clause_id}:{sentence}")

    def _fill(self, family: str, clause: Clause, frame: str, answer: str, explanation: str,
              signature: str) -> Question | None:
        if signature in self.used:
            return None
        where = self._human(clause.clause_id)
        stem = f"依据{where}，填空：“{frame}”。"
        q = Question(id="", type=FILL, family=family, difficulty=self.difficulty, stem=stem, options={},
                     answer=answer, explanation=explanation, citations=(self.store.citation(clause.clause_id),),
                     frame=frame, support={"answer": clause.clause_id}, scope=QuizScope((clause.doc_slug,)))
        q = self._validated(q)
        if q:
            self.used.add(signature)
        return q

    # -- assembling --------------------------------------------------------------------------
    def _builders(self, qtype: str) -> list[tuple[float, object]]:
        has_criteria, has_numbers = bool(self.groups), bool(self.sites)
        if qtype in (SINGLE, MULTIPLE):
            out = [(0.65, lambda: self.criterion_choice(qtype))] if has_criteria else []
            if qtype == SINGLE and has_numbers:
                out.append((0.35, self.number_choice))
            return out
        if qtype == JUDGE:
            out = [(0.5, self.criterion_judge)] if has_criteria else []
            return out + ([(0.5, self.number_judge)] if has_numbers else [])
        out = [(0.4, self.number_fill)] if has_numbers else []
        out += [(0.35, self.term_fill)] if has_criteria else []
        return out + ([(0.25, self.duty_fill)] if self.duty_sites else [])

    def generate(self) -> Quiz:
        questions: list[Question] = []
        counts = self.request.counts()
        produced = {t: 0 for t in TYPES}
        for qtype in TYPES:
            builders = self._builders(qtype)
            for _ in range(counts[qtype]):
                question = None
                for _attempt in range(ATTEMPTS if builders else 0):
                    weights = [w for w, _ in builders]
                    build = self.rng.choices([b for _, b in builders], weights=weights)[0]
                    question = build()
                    if question is not None:
                        break
                if question is None:
                    self.dropped["no_valid_question"] += 1
                    continue
                produced[qtype] += 1
                questions.append(replace(question, id=f"q{len(questions) + 1:03d}"))
        return Quiz(id=quiz_id(self.request), seed=self.request.seed, request=self.request,
                    questions=tuple(questions), requested=counts, produced=produced,
                    dropped=dict(sorted(self.dropped.items())))


def _magnitude(text: str) -> tuple[float, ...]:
    spans = find_numbers(text)
    return spans[0].values if spans else (0.0,)


def generate_quiz(store: ClauseStore, registry: Registry, request: QuizRequest, max_total: int = MAX_TOTAL) -> Quiz:
    """A quiz for `request` (raises QuizRequestError for a bad one); every question validated."""
    check_request(request, store, registry, max_total)
    return QuizGenerator(store, registry, request).generate()


__all__ = ["QuizGenerator", "QuizRequestError", "check_request", "flips", "generate_quiz", "known_domains",
           "known_industries", "option_text"]
