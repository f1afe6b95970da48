"""Inspection paperwork: findings (classifications, situations or a saved self-check) → a
隐患排查记录 or 责令限期整改指令书 draft as DOCX or HTML."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response

from api.contracts import decision_json
from api.errors import InvalidInput, problem_responses
from api.routes.deps import ClassifierDep
from api.routes.selfchecks import FILE_RESPONSES, SelfCheckStoreDep, _get, file_response
from api.selfcheck_schemas import PaperworkRequest
from api.services import consequence_rules
from assistant.classifier import Classifier
from assistant.paperwork import (
    TITLES,
    PaperworkInputError,
    SourceFinding,
    build_paper,
    findings_from_classification,
    findings_from_self_check,
)

router = APIRouter(tags=["paperwork"], responses=problem_responses(500, 503))


def collect_findings(classifier: Classifier, classifications: list[dict], situations: list[str],
                     self_check_report: dict | None) -> list[SourceFinding]:
    """Findings from every source, in the order given (classifications, situations, self-check)."""
    findings: list[SourceFinding] = []
    for data in classifications:
        findings += findings_from_classification(data)
    for text in situations:
        # InputError (empty or oversized situation) → 422 in api/errors.py
        findings += findings_from_classification(decision_json(classifier, classifier.classify(text)))
    if self_check_report is not None:
        findings += findings_from_self_check(self_check_report)
    return findings


@router.post("/paperwork", response_class=Response, summary="生成隐患排查记录或责令限期整改指令书草稿（DOCX 或 HTML）",
             responses={**FILE_RESPONSES, **problem_responses(404, 413, 422)})
def create_paperwork(body: PaperworkRequest, classifier: ClassifierDep, store: SelfCheckStoreDep) -> Response:
    from api.paperwork_render import paper_docx, paper_html

    if not body.classifications and not body.situations and not body.self_check_id:
        raise InvalidInput("请至少提供 classifications、situations 或 self_check_id 之一")
    report = _get(store, body.self_check_id).report if body.self_check_id else None
    findings = collect_findings(classifier, [c.model_dump() for c in body.classifications], body.situations, report)
    try:
        paper = build_paper(body.kind, findings, classifier.store, classifier.registry, consequence_rules(),
                            classifier.retriever)
    except PaperworkInputError as exc:
        raise InvalidInput(str(exc)) from None
    content = paper_docx(paper) if body.format == "docx" else paper_html(paper)
    return file_response(content, body.format, f"{TITLES[body.kind]}-{date.today().isoformat()}")
