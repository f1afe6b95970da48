"""Legal consequences of a hazard: the duties it engages, the inspectors' measures and the
penalties, from the team's table (corpus/consequences.yaml) with every quote taken from the store;
and the obligation a finding breaches — curated where the team wrote it, otherwise retrieved from
the laws and regulations and marked as a candidate for the inspector to confirm. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .criteria import Criterion
from .model import Citation, as_tuple
from .retrieval import Retriever, SearchFilters
from .store import ClauseStore

DUTY, REPORT, ENFORCEMENT, PENALTY, SANCTION, OBLIGATION = (
    "duty", "report", "enforcement", "penalty", "sanction", "obligation")
ROLE_ZH = {
    DUTY: "排查治理与消除义务", REPORT: "报告义务", ENFORCEMENT: "执法措施", PENALTY: "罚则",
    SANCTION: "停产整顿与关闭", OBLIGATION: "违反的义务",
}
ALL, MAJOR_ONLY = "all", "major"
# Where a breached obligation is looked for when none is curated: binding texts, not the
# determination standards themselves.
OBLIGATION_KINDS = ("法律", "行政法规", "部门规章")
RETRIEVED_NOTE = "检索所得、需执法人员确认"
_DUTY_WORDS = ("应当", "必须", "不得", "禁止")
_NOT_DUTY_WORDS = ("罚款", "责令", "监督管理职责的部门")


@dataclass(frozen=True)
class Rule:
    clause_id: str
    role: str
    severity: str = ALL
    note: str = ""


@dataclass(frozen=True)
class LegalConsequence:
    """One clause and the part it plays; `retrieved` marks a guess the inspector must confirm."""

    role: str
    citation: Citation
    note: str = ""
    retrieved: bool = False

    @property
    def role_zh(self) -> str:
        return ROLE_ZH.get(self.role, self.role)

    def to_dict(self) -> dict[str, Any]:
        c = self.citation
        return {"role": self.role, "role_zh": self.role_zh, "clause_id": c.clause_id, "citation": c.citation,
                "document_title": c.document_title, "doc_number": c.doc_number, "article": c.article,
                "item": c.item, "sub_item": c.sub_item, "quote": c.quote, "note": self.note,
                "retrieved": self.retrieved, "confirmation": RETRIEVED_NOTE if self.retrieved else ""}


def _rules(entries) -> tuple[Rule, ...]:
    out = []
    for e in entries or []:
        role = str(e.get("role") or "")
        if role not in ROLE_ZH:
            raise ValueError(f"unknown consequence role {role!r}")
        severity = str(e.get("severity") or ALL)
        if severity not in (ALL, MAJOR_ONLY):
            raise ValueError(f"unknown severity {severity!r}")
        out.append(Rule(str(e["clause"]), role, severity, str(e.get("note") or "")))
    return tuple(out)


@dataclass(frozen=True)
class ConsequenceRules:
    default: tuple[Rule, ...] = ()
    documents: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    industries: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    domains: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    obligations: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ConsequenceRules:
        def scoped(key):
            return {str(k): _rules(v) for k, v in (data.get(key) or {}).items()}

        return cls(default=_rules(data.get("default")), documents=scoped("documents"),
                   industries=scoped("industries"), domains=scoped("domains"),
                   obligations={str(k): as_tuple(v) for k, v in (data.get("obligations") or {}).items()})

    def all_rules(self) -> list[Rule]:
        out = list(self.default)
        for table in (self.documents, self.industries, self.domains):
            for rules in table.values():
                out.extend(rules)
        return out

    def clause_ids(self) -> set[str]:
        """Every clause the table names (for checking it against the store)."""
        ids = {r.clause_id for r in self.all_rules()}
        for targets in self.obligations.values():
            ids.update(targets)
        return ids

    def rules_for(self, doc_slug: str = "", industries=(), domains=(), major: bool = True) -> list[Rule]:
        picked = list(self.default) + list(self.documents.get(doc_slug, ()))
        for name in industries:
            picked += self.industries.get(name, ())
        for name in domains:
            picked += self.domains.get(name, ())
        return [r for r in picked if major or r.severity == ALL]

    def curated_obligations(self, clause_id: str) -> tuple[str, ...]:
        """The entry for the clause or its nearest ancestor (an article stands for its items)."""
        parts = clause_id.split(":")
        for n in range(len(parts), 1, -1):
            key = ":".join(parts[:n])
            if key in self.obligations:
                return self.obligations[key]
        return ()


def consequences_for(rules: ConsequenceRules, store: ClauseStore, criterion: Criterion | None,
                     major: bool = True) -> list[LegalConsequence]:
    """The (role, citation) list for a hazard under `criterion` (None: the defaults only), quoted
    from the store; clauses missing from the store are left out rather than invented."""
    if criterion is None:
        picked = rules.rules_for(major=major)
    else:
        picked = rules.rules_for(criterion.doc_slug, criterion.industries, criterion.domains, major)
    out: list[LegalConsequence] = []
    seen: set[tuple[str, str]] = set()
    for rule in picked:
        if (rule.role, rule.clause_id) in seen or rule.clause_id not in store.clauses:
            continue
        seen.add((rule.role, rule.clause_id))
        out.append(LegalConsequence(rule.role, store.citation(rule.clause_id), rule.note))
    return out


def obligation_documents(store: ClauseStore, industries=()) -> tuple[str, ...]:
    """Laws, regulations and rules in force (not the determination standards) that fit the trade."""
    wanted = set(industries)
    return tuple(sorted(
        slug for slug, doc in store.documents.items()
        if doc.kind in OBLIGATION_KINDS and doc.role != "criteria" and doc.clause_count
        and doc.status.startswith("现行有效") and (not doc.industries or not wanted or set(doc.industries) & wanted)))


def _reads_as_duty(text: str) -> bool:
    return any(w in text for w in _DUTY_WORDS) and not any(w in text for w in _NOT_DUTY_WORDS)


def obligations_for(rules: ConsequenceRules, store: ClauseStore, criterion: Criterion | None, text: str = "",
                    retriever: Retriever | None = None, limit: int = 2) -> list[LegalConsequence]:
    """The obligation a finding breaches: the team's entry for the criterion, else candidate duty
    clauses retrieved with the criterion's (or the finding's) text, marked `retrieved`."""
    if criterion is not None:
        curated = [cid for cid in rules.curated_obligations(criterion.clause_id) if cid in store.clauses]
        if curated:
            return [LegalConsequence(OBLIGATION, store.citation(cid), "") for cid in curated]
    if retriever is None:
        return []
    query = criterion.text if criterion is not None else text
    if not query.strip():
        return []
    industries = criterion.industries if criterion is not None else ()
    slugs = obligation_documents(store, industries)
    if not slugs:
        return []
    hits = retriever.search(query, k=20, filters=SearchFilters(documents=slugs))
    out: list[LegalConsequence] = []
    for hit in hits:
        if _reads_as_duty(hit.clause.text):
            out.append(LegalConsequence(OBLIGATION, store.citation(hit.clause.clause_id), RETRIEVED_NOTE,
                                        retrieved=True))
        if len(out) >= limit:
            break
    return out
