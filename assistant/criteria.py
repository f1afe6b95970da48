"""Criteria: the enumerated major-hazard items of the determination standards, with the team's
annotations (alternatives, conditions, scope, follow-up questions). Pure: built from the clause
store and annotation data, no I/O.

A criterion is a leaf clause under a determination lead-in ("有下列情形之一的，应当判定为重大事故
隐患", "重大事故隐患，是指有下列情形之一的", "判定为一项重大隐患"), a list item of a list-family
standard, a GB lettered item, or a single-sentence determination article (工贸 第十四条).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .citation import cite
from .model import ARTICLE, Citation, Clause, as_tuple
from .store import ClauseStore

DETERMINATION = re.compile(r"判定为(一项)?重大(事故)?隐患|重大事故隐患[”\"]?，是指有下列情形")
PART_HEADING = re.compile(r"重大事故隐患$")  # 一、金属非金属地下矿山重大事故隐患

# Condition kinds.
PRESENT = "present"  # the fact must be stated (粉尘爆炸危险场所, 多层建筑)
MISSING = "missing"  # something required is absent or not working (未设置…, …失效)
NUMBER = "number"  # a quantity compared with a threshold (甲烷浓度 ≥ 1.0%)


@dataclass(frozen=True)
class Condition:
    fact: str  # short Chinese label: 除尘系统为干式
    kind: str = PRESENT
    terms: tuple[str, ...] = ()  # any of these words states the fact (colloquial + official)
    contra: tuple[str, ...] = ()  # words that state the opposite (框架结构 vs 非框架结构)
    ask: str = ""  # follow-up question when the fact is not stated
    op: str = ""  # for NUMBER: > >= < <=
    value: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class Alternative:
    when: str  # the 或者-branch in plain words
    conditions: tuple[Condition, ...]
    excepts: tuple[str, ...] = ()  # …除外: words naming excluded cases


@dataclass(frozen=True)
class Criterion:
    clause_id: str
    doc_slug: str
    text: str
    lead_in: str
    industries: tuple[str, ...]
    domains: tuple[str, ...]
    alternatives: tuple[Alternative, ...]
    catch_all: bool = False  # "其他严重违反……" clauses: never matched automatically
    keywords: tuple[str, ...] = ()  # extra colloquial words for finding this criterion
    note: str = ""
    annotated: bool = False  # hand-written (True) or generated from the text (False)

    def citation(self, store: ClauseStore) -> Citation:
        return cite(store.clause(self.clause_id), store.documents[self.doc_slug])


@dataclass
class Registry:
    criteria: dict[str, Criterion] = field(default_factory=dict)
    _under_index: dict[str, list[Criterion]] | None = field(default=None, init=False, repr=False, compare=False)
    _indexed_count: int = field(default=-1, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.criteria)

    def get(self, clause_id: str) -> Criterion | None:
        return self.criteria.get(clause_id)

    def under(self, clause_id: str) -> list[Criterion]:
        """Criteria at or below a clause (a hit on an article stands for its items)."""
        # Asked for each of ~40 retrieval hits per finding: index the criteria by every ancestor
        # once (rebuilt if the registry is changed) instead of scanning all of them per hit.
        if self._under_index is None or self._indexed_count != len(self.criteria):
            index: dict[str, list[Criterion]] = {}
            for cid, criterion in self.criteria.items():
                parts = cid.split(":")
                for end in range(1, len(parts) + 1):
                    index.setdefault(":".join(parts[:end]), []).append(criterion)
            self._under_index, self._indexed_count = index, len(self.criteria)
        return list(self._under_index.get(clause_id, ()))


# -- which clauses are criteria -------------------------------------------------------------

def _leaves(store: ClauseStore, clause: Clause) -> list[Clause]:
    children = store.children(clause.clause_id)
    if not children:
        return [clause]
    return [leaf for child in children for leaf in _leaves(store, child)]


def criterion_clauses(store: ClauseStore) -> list[Clause]:
    """Leaf clauses of every determination provision of every criteria document with text."""
    out: list[Clause] = []
    for slug, doc in store.documents.items():
        if doc.role != "criteria" or not doc.clause_count:
            continue
        for clause in store.clauses_of(slug):
            if clause.level != ARTICLE:
                continue
            head = clause.text.split("\n")[0]
            if doc.family == "list":
                # List items sit under the document's lead-in; metal-mine parts are headed
                # "一、金属非金属地下矿山重大事故隐患".
                head = clause.part_title or doc.lead_in
            head = head.rstrip("：:。 ")
            if DETERMINATION.search(head) or (clause.part_title and PART_HEADING.search(head)):
                out.extend(_leaves(store, clause))
    return out


# -- annotations ------------------------------------------------------------------------------

def parse_condition(data: dict[str, Any]) -> Condition:
    kind = str(data.get("kind") or PRESENT)
    if kind not in (PRESENT, MISSING, NUMBER):
        raise ValueError(f"unknown condition kind {kind!r}")
    value = data.get("value")
    return Condition(
        fact=str(data.get("fact") or ""),
        kind=kind,
        terms=as_tuple(data.get("terms")),
        contra=as_tuple(data.get("contra")),
        ask=str(data.get("ask") or ""),
        op=str(data.get("op") or ""),
        value=float(value) if value is not None else None,
        unit=str(data.get("unit") or ""),
    )


def parse_alternative(data: dict[str, Any]) -> Alternative:
    return Alternative(
        when=str(data.get("when") or ""),
        conditions=tuple(parse_condition(c) for c in data.get("require") or []),
        excepts=as_tuple(data.get("except")),
    )


def scope_for(clause_id: str, scopes: dict[str, dict[str, Any]], default_industries: tuple[str, ...],
              default_domains: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The most specific scope entry whose key is the clause or one of its ancestors."""
    parts = clause_id.split(":")
    for n in range(len(parts), 1, -1):
        key = ":".join(parts[:n])
        if key in scopes:
            entry = scopes[key]
            return (as_tuple(entry.get("industries")) or default_industries, as_tuple(entry.get("domains")))
    return default_industries, ()


def build_registry(store: ClauseStore, annotations: dict[str, dict[str, Any]],
                   scopes: dict[str, dict[str, Any]]) -> Registry:
    """Every criterion clause with its annotation; clauses without one get generated conditions."""
    from .criteria_generate import generated_alternatives

    criteria: dict[str, Criterion] = {}
    for clause in criterion_clauses(store):
        doc = store.documents[clause.doc_slug]
        data = annotations.get(clause.clause_id)
        industries, domains = scope_for(clause.clause_id, scopes, doc.industries, ())
        if data:
            alternatives = tuple(parse_alternative(a) for a in data.get("alternatives") or [])
        else:
            alternatives = generated_alternatives(clause.text)
        criteria[clause.clause_id] = Criterion(
            clause_id=clause.clause_id,
            doc_slug=clause.doc_slug,
            text=clause.text,
            lead_in=clause.lead_in,
            industries=industries,
            domains=domains,
            alternatives=alternatives,
            catch_all=bool((data or {}).get("catch_all")),
            keywords=as_tuple((data or {}).get("keywords")),
            note=str((data or {}).get("note") or ""),
            annotated=bool(data),
        )
    return Registry(criteria)


def best_alternative(results):
    """The branch the description is about: a met one, else the one with most facts met (a
    failed branch wins a tie, so a stated near miss is not hidden by untouched branches)."""
    met = [r for r in results if r.status == "met"]
    if met:
        return met[0]
    return max(results, key=lambda r: (len(r.met), r.status == "failed", -len(r.unknown)))


def criterion_status(results) -> str:
    """met when a branch is met; otherwise the status of the branch the description addressed."""
    if not results:
        return "open"
    return best_alternative(results).status
