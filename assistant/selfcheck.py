"""Enterprise self-check: the checklist of every criterion that applies to a plant, asked as
plain yes/no questions, and the report built from the answers. Pure: the classifier lends its
registry, cue words and scope rules; the retriever (for breached obligations) is injected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .classifier import Classifier
from .consequences import (
    ConsequenceRules,
    LegalConsequence,
    consequences_for,
    obligations_for,
)
from .criteria import Criterion
from .model import Citation
from .selfcheck_questions import NO, YES, questions_for

ANSWER_YES, ANSWER_NO, ANSWER_UNSURE = "是", "否", "不确定"
ANSWERS = (ANSWER_YES, ANSWER_NO, ANSWER_UNSURE)
_HAZARD_ANSWER = {YES: ANSWER_YES, NO: ANSWER_NO}
MAX_CHECKS = 4


class ProfileError(ValueError):
    """The profile names no usable industry or an unknown domain; the message is for the user."""


class UnknownItemsError(ValueError):
    def __init__(self, item_ids: list[str]):
        super().__init__("、".join(item_ids))
        self.item_ids = item_ids

    def __str__(self) -> str:
        return f"答案中有检查表里没有的检查项：{'、'.join(self.item_ids)}"


@dataclass(frozen=True)
class ResolvedProfile:
    """Who the checklist is for: what the user said and what was inferred from it."""

    industries: tuple[str, ...]
    domains: tuple[str, ...]
    declared_industry: str = ""
    declared_domains: tuple[str, ...] = ()
    inferred_industries: tuple[str, ...] = ()  # from the description's cue words
    inferred_domains: tuple[str, ...] = ()  # from the description, or presupposed by the trade
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"industries": list(self.industries), "domains": list(self.domains),
                "declared_industry": self.declared_industry, "declared_domains": list(self.declared_domains),
                "inferred_industries": list(self.inferred_industries),
                "inferred_domains": list(self.inferred_domains), "description": self.description}


@dataclass(frozen=True)
class ChecklistItem:
    item_id: str  # the clause ID, with "#2", "#3" … for further 或者-branches of the clause
    clause_id: str
    question: str
    hazard_if: str  # "yes" | "no"
    branch: str
    citation: Citation
    to_check: tuple[str, ...] = ()  # what to look at when unsure (the annotations' questions)

    @property
    def hazard_answer(self) -> str:
        return _HAZARD_ANSWER[self.hazard_if]

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "clause_id": self.clause_id, "question": self.question,
                "hazard_if": self.hazard_if, "hazard_answer": self.hazard_answer, "branch": self.branch,
                "citation": _citation_dict(self.citation), "to_check": list(self.to_check)}


@dataclass(frozen=True)
class ChecklistGroup:
    group_id: str  # the article (or the list-family document) the items belong to
    heading: str
    lead_in: str
    document_slug: str
    document_title: str
    doc_number: str
    items: tuple[ChecklistItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"group_id": self.group_id, "heading": self.heading, "lead_in": self.lead_in,
                "document": {"slug": self.document_slug, "title": self.document_title,
                             "doc_number": self.doc_number},
                "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class Checklist:
    profile: ResolvedProfile
    groups: tuple[ChecklistGroup, ...]

    def items(self) -> list[ChecklistItem]:
        return [item for g in self.groups for item in g.items]

    def criteria_ids(self) -> list[str]:
        return list(dict.fromkeys(item.clause_id for item in self.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile.to_dict(), "groups": [g.to_dict() for g in self.groups],
                "item_count": len(self.items()), "criteria_count": len(self.criteria_ids())}


@dataclass(frozen=True)
class HazardFound:
    clause_id: str
    citation: Citation
    items: tuple[tuple[ChecklistItem, str], ...]  # the questions whose answer means the hazard
    obligations: tuple[LegalConsequence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"clause_id": self.clause_id, "citation": _citation_dict(self.citation),
                "answered": [{"item_id": i.item_id, "question": i.question, "answer": a} for i, a in self.items],
                "obligations": [o.to_dict() for o in self.obligations]}


@dataclass(frozen=True)
class UncertainItem:
    item: ChecklistItem

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item.item_id, "clause_id": self.item.clause_id, "question": self.item.question,
                "citation": _citation_dict(self.item.citation), "to_check": list(self.item.to_check)}


@dataclass(frozen=True)
class SelfCheckReport:
    profile: ResolvedProfile
    hazards: tuple[HazardFound, ...]
    uncertain: tuple[UncertainItem, ...]
    item_count: int
    clear_count: int  # answered, and the answer means no hazard
    consequences: tuple[LegalConsequence, ...] = ()
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile.to_dict(), "summary": self.summary, "item_count": self.item_count,
                "clear_count": self.clear_count, "hazards": [h.to_dict() for h in self.hazards],
                "uncertain": [u.to_dict() for u in self.uncertain],
                "consequences": [c.to_dict() for c in self.consequences]}


def _citation_dict(c: Citation) -> dict[str, Any]:
    return {"clause_id": c.clause_id, "citation": c.citation, "document_title": c.document_title,
            "doc_number": c.doc_number, "article": c.article, "item": c.item, "sub_item": c.sub_item,
            "quote": c.quote}


# -- profile ------------------------------------------------------------------------------------
def resolve_profile(classifier: Classifier, industry: str = "", domains=(), description: str = "",
                    industry_domains: dict[str, Any] | None = None) -> ResolvedProfile:
    """The plant's industries and special domains: declared ones, plus those the description's
    cue words name, plus the domains the trade presupposes (`industry_domains`)."""
    known_industries = list(classifier.industry_cues)
    known_domains = list(classifier.domain_cues)
    declared: list[str] = []
    if industry.strip():
        declared = [i for i in classifier.canonical_industries(industry) if i in known_industries]
        if not declared:
            raise ProfileError(f"无法识别行业“{industry.strip()}”，可选：{'、'.join(known_industries)}")
    unknown = [d for d in domains if d not in known_domains]
    if unknown:
        raise ProfileError(f"无法识别专项领域“{'、'.join(unknown)}”，可选：{'、'.join(known_domains)}")
    text_industries, text_domains = classifier.infer_scope(description) if description.strip() else ([], [])
    industries = declared + [i for i in text_industries if i not in declared]
    if not industries:
        raise ProfileError("无法确定行业：请选择行业，或在单位描述中写明主要产品和工艺（如“我们是做铝型材挤压和熔铸的”）")
    inferred_domains = [d for d in text_domains if d not in domains]
    for name in industries:
        for d in (industry_domains or {}).get(name) or ():
            if d not in domains and d not in inferred_domains:
                inferred_domains.append(d)
    return ResolvedProfile(
        industries=tuple(industries), domains=tuple(list(domains) + inferred_domains),
        declared_industry=industry.strip(), declared_domains=tuple(domains),
        inferred_industries=tuple(i for i in text_industries if i not in declared),
        inferred_domains=tuple(inferred_domains), description=description.strip())


# -- checklist ----------------------------------------------------------------------------------
def applies(classifier: Classifier, criterion: Criterion, profile: ResolvedProfile) -> bool:
    """The classifier's scope rule, and one more: a special-domain criterion is asked only of a
    plant in that domain (a checklist asks about what the plant has, not what it might have),
    and only of the trades the criterion names."""
    if not classifier.in_scope(criterion, list(profile.industries), list(profile.domains)):
        return False
    if criterion.industries and not set(criterion.industries) & set(profile.industries):
        return False  # a domain does not carry another trade's criterion (房屋市政 有限空间) over
    return not criterion.domains or bool(set(criterion.domains) & set(profile.domains))


def _to_check(criterion: Criterion) -> tuple[str, ...]:
    asks: list[str] = []
    for alt in criterion.alternatives:
        for cond in alt.conditions:
            if cond.ask and cond.ask not in asks:
                asks.append(cond.ask)
    return tuple(asks[:MAX_CHECKS])


def checklist_items(classifier: Classifier, criterion: Criterion) -> list[ChecklistItem]:
    citation = classifier.citation(criterion)
    to_check = _to_check(criterion)
    out = []
    for n, q in enumerate(questions_for(criterion.text, criterion.lead_in), 1):
        item_id = criterion.clause_id if n == 1 else f"{criterion.clause_id}#{n}"
        out.append(ChecklistItem(item_id, criterion.clause_id, q.text, q.hazard_if, q.branch, citation, to_check))
    return out


def build_checklist(classifier: Classifier, profile: ResolvedProfile) -> Checklist:
    """Every applicable criterion (catch-alls included: they are criteria too), grouped by the
    article — or, for list-family standards, the document — that enumerates them."""
    store = classifier.store
    groups: dict[str, list[ChecklistItem]] = {}
    for criterion in classifier.registry.criteria.values():
        if not applies(classifier, criterion, profile):
            continue
        clause = store.clause(criterion.clause_id)
        family = store.documents[clause.doc_slug].family
        group_id = clause.parent_id or (clause.doc_slug if family == "list" else clause.clause_id)
        groups.setdefault(group_id, []).extend(checklist_items(classifier, criterion))
    out = []
    for group_id, items in groups.items():
        if group_id in store.clauses:
            parent = store.clause(group_id)
            doc = store.document_of(parent)
            heading, lead_in = store.citation(group_id).citation, parent.text.split("\n")[0]
        else:
            doc = store.documents[group_id]
            heading, lead_in = f"《{doc.title}》", doc.lead_in
        out.append(ChecklistGroup(group_id, heading, lead_in, doc.slug, doc.title, doc.doc_number, tuple(items)))
    return Checklist(profile, tuple(out))


# -- report -------------------------------------------------------------------------------------
def validate_answers(checklist: Checklist, answers: dict[str, str]) -> None:
    known = {item.item_id for item in checklist.items()}
    unknown = [item_id for item_id in answers if item_id not in known]
    if unknown:
        raise UnknownItemsError(unknown)
    bad = [f"{k}={v}" for k, v in answers.items() if v not in ANSWERS]
    if bad:
        raise ValueError(f"答案只能是“是”“否”或“不确定”：{'、'.join(bad)}")


def build_report(classifier: Classifier, checklist: Checklist, answers: dict[str, str],
                 rules: ConsequenceRules, retriever=None) -> SelfCheckReport:
    """Major hazards (the answer that means the hazard, cited and quoted), the items left 不确定
    (unanswered counts as 不确定) with what to check, and the legal consequences of the hazards."""
    validate_answers(checklist, answers)
    store = classifier.store
    hazard_items: dict[str, list[tuple[ChecklistItem, str]]] = {}
    uncertain: list[UncertainItem] = []
    clear = 0
    for item in checklist.items():
        answer = answers.get(item.item_id, ANSWER_UNSURE)
        if answer == ANSWER_UNSURE:
            uncertain.append(UncertainItem(item))
        elif answer == item.hazard_answer:
            hazard_items.setdefault(item.clause_id, []).append((item, answer))
        else:
            clear += 1
    hazards = []
    consequences: list[LegalConsequence] = []
    seen: set[tuple[str, str]] = set()
    for clause_id, items in hazard_items.items():
        criterion = classifier.registry.get(clause_id)
        obligations = obligations_for(rules, store, criterion, retriever=retriever)
        hazards.append(HazardFound(clause_id, items[0][0].citation, tuple(items), tuple(obligations)))
        for c in consequences_for(rules, store, criterion, major=True):
            if (c.role, c.citation.clause_id) not in seen:
                seen.add((c.role, c.citation.clause_id))
                consequences.append(c)
    total = len(checklist.items())
    summary = (f"共{total}项检查，{len(hazards)}项重大事故隐患，{len(uncertain)}项不确定，{clear}项未发现问题。"
               if total else "没有适用的检查项。")
    if hazards:
        summary += "存在重大事故隐患：应当立即采取措施消除，并按规定报告（见法律后果）。"
    return SelfCheckReport(checklist.profile, tuple(hazards), tuple(uncertain), total, clear,
                           tuple(consequences), summary)

