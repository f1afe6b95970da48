"""Inspection paperwork drafts from findings: a 隐患排查记录 and a 责令限期整改指令书. Pure.

Findings come from a classification (the `decision_json` shape) or a saved self-check report.
Only their clause IDs, labels and texts are read: every quote is re-taken from the store (a quote
sent by a client is never trusted) and an unknown clause ID is an error. Whatever the system
cannot know (unit, date, inspectors, deadline, review, signatures) stays blank for the inspector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .consequences import (
    ENFORCEMENT,
    PENALTY,
    SANCTION,
    ConsequenceRules,
    LegalConsequence,
    consequences_for,
    obligations_for,
)
from .criteria import Registry
from .model import Citation
from .store import ClauseStore

RECORD, ORDER = "record", "order"
TITLES = {RECORD: "隐患排查记录", ORDER: "责令限期整改指令书"}
LEVEL_MAJOR, LEVEL_GENERAL, LEVEL_OPEN = "重大事故隐患", "一般事故隐患", "待核实（信息不足）"
_LEVELS = {"major": LEVEL_MAJOR, "general": LEVEL_GENERAL, "insufficient": LEVEL_OPEN}
DEFINITION_CLAUSE = "hazard-investigation-rules:3"
# Fields only the inspector can fill in, in the order they appear on the paper.
HEADER_BLANKS = ("单位名称", "单位地址", "检查时间", "检查人员", "执法证号")
FINDING_BLANKS = ("整改期限", "整改措施")
FOOTER_BLANKS = {
    RECORD: ("复查意见", "复查时间", "检查人员签字", "被检查单位负责人签字", "日期"),
    ORDER: ("复查意见", "复查时间", "执法人员签字", "被检查单位负责人签字", "日期", "执法机关（印章）"),
}


class PaperworkInputError(ValueError):
    """Findings that cannot go on paper (unknown clause IDs, nothing to record); message in Chinese."""


@dataclass(frozen=True)
class SourceFinding:
    """What a finding contributes: its words, its label and the clause IDs that decided it."""

    text: str
    label: str  # major | general | insufficient
    clause_ids: tuple[str, ...] = ()
    to_verify: tuple[str, ...] = ()  # follow-up questions the finding left open


@dataclass(frozen=True)
class PaperFinding:
    number: int
    description: str
    level: str
    basis: tuple[Citation, ...]  # 判定依据, quoted from the store
    obligations: tuple[LegalConsequence, ...]
    penalties: tuple[LegalConsequence, ...]
    to_verify: tuple[str, ...] = ()


@dataclass(frozen=True)
class Paper:
    kind: str
    title: str
    findings: tuple[PaperFinding, ...]
    enforcement: tuple[LegalConsequence, ...]  # the inspector's power to order rectification
    header_blanks: tuple[str, ...] = HEADER_BLANKS
    finding_blanks: tuple[str, ...] = FINDING_BLANKS
    footer_blanks: tuple[str, ...] = ()

    def all_citations(self) -> list[Citation]:
        out = []
        for f in self.findings:
            out += list(f.basis) + [o.citation for o in f.obligations] + [p.citation for p in f.penalties]
        return out + [e.citation for e in self.enforcement]


# -- reading findings ---------------------------------------------------------------------------
def findings_from_classification(data: dict[str, Any]) -> list[SourceFinding]:
    """Findings of one classification (`decision_json`); out-of-scope ones are not hazards."""
    out = []
    for f in data.get("findings") or []:
        label = str(f.get("label") or "")
        if label not in _LEVELS:
            continue
        criteria = f.get("criteria") or []
        if label == "major":
            ids = [c.get("clause_id") for c in criteria if c.get("role") == "matched"]
        elif label == "insufficient":
            ids = [c.get("clause_id") for c in criteria if c.get("role") == "nearest"][:1]
        else:
            ids = []
        out.append(SourceFinding(str(f.get("text") or ""), label, tuple(str(i) for i in ids if i),
                                 tuple(str(q) for q in f.get("follow_up_questions") or [])))
    return out


def findings_from_self_check(report: dict[str, Any]) -> list[SourceFinding]:
    """The major hazards of a saved self-check report, described by the questions answered."""
    out = []
    for h in report.get("hazards") or []:
        answered = "；".join(f"{a.get('question', '')}（自查回答：{a.get('answer', '')}）" for a in h.get("answered") or [])
        out.append(SourceFinding(answered, "major", (str(h.get("clause_id") or ""),)))
    return out


def check_clause_ids(store: ClauseStore, findings: list[SourceFinding]) -> None:
    unknown = sorted({cid for f in findings for cid in f.clause_ids if cid not in store.clauses})
    if unknown:
        raise PaperworkInputError(f"判定结果中有条款库里没有的条款：{'、'.join(unknown)}")


# -- building -----------------------------------------------------------------------------------
def build_paper(kind: str, findings: list[SourceFinding], store: ClauseStore, registry: Registry,
                rules: ConsequenceRules, retriever=None) -> Paper:
    if kind not in TITLES:
        raise PaperworkInputError(f"文书类型应为 record（隐患排查记录）或 order（责令限期整改指令书），收到：{kind}")
    if not findings:
        raise PaperworkInputError("没有可写入文书的隐患（判定结果均不属于事故隐患，或自查未发现重大事故隐患）")
    check_clause_ids(store, findings)
    papers = []
    enforcement: list[LegalConsequence] = []
    for n, f in enumerate(findings, 1):
        major = f.label == "major"
        criteria = [registry.get(cid) for cid in f.clause_ids]
        basis = [store.citation(cid) for cid in f.clause_ids]
        if f.label == "general" and DEFINITION_CLAUSE in store.clauses:
            basis.append(store.citation(DEFINITION_CLAUSE))
        criterion = next((c for c in criteria if c is not None), None)
        effects = consequences_for(rules, store, criterion, major=major)
        penalties = tuple(c for c in effects if c.role in (PENALTY, SANCTION))
        for c in effects:
            if c.role == ENFORCEMENT and c.citation.clause_id not in {e.citation.clause_id for e in enforcement}:
                enforcement.append(c)
        obligations = tuple(obligations_for(rules, store, criterion, text=f.text, retriever=retriever))
        papers.append(PaperFinding(n, f.text, _LEVELS[f.label], tuple(basis), obligations, penalties, f.to_verify))
    return Paper(kind, TITLES[kind], tuple(papers), tuple(enforcement), footer_blanks=FOOTER_BLANKS[kind])

