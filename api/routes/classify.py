"""Classify a described situation; the body is the `hazard classify --json` contract."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.audit import CLASSIFY, new_audit_id
from api.contracts import decision_json
from api.errors import problem_responses
from api.routes.audit import AUDIT_HEADER, AUDIT_HEADERS, log_answer
from api.routes.deps import ClassifierDep, IndexDep, PrincipalDep
from api.schemas import ClassifyRequest, ClassifyResponse
from assistant.classifier import Profile

router = APIRouter(tags=["classify"], responses=problem_responses(500, 503))


@router.post("/classify", response_model=ClassifyResponse, summary="判定现场情形是否属于重大事故隐患",
             responses={200: {"description": "判定结果", "headers": AUDIT_HEADERS}, **problem_responses(413, 422)})
def classify(body: ClassifyRequest, classifier: ClassifierDep, index: IndexDep, principal: PrincipalDep,
             request: Request, response: Response) -> dict:
    profile = body.profile
    industry = body.industry or (profile.industry if profile else "")
    domains = tuple(profile.domains) if profile else ()
    # InputError (empty or oversized situation) → 422 in api/errors.py
    decision = classifier.classify(body.situation, Profile(industry, domains))
    data = decision_json(classifier, decision)
    audit_id = new_audit_id()
    logged_input = {"situation": body.situation, "profile": {"industry": industry, "domains": list(domains)}}
    if log_answer(request, audit_id, principal.owner, CLASSIFY, logged_input, data, index):
        response.headers[AUDIT_HEADER] = audit_id
    return data
