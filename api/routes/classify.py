"""Classify a described situation; the body is the `hazard classify --json` contract."""

from __future__ import annotations

from fastapi import APIRouter

from api.contracts import decision_json
from api.errors import problem_responses
from api.routes.deps import ClassifierDep
from api.schemas import ClassifyRequest, ClassifyResponse
from assistant.classifier import Profile

router = APIRouter(tags=["classify"], responses=problem_responses(500, 503))


@router.post("/classify", response_model=ClassifyResponse, summary="判定现场情形是否属于重大事故隐患",
             responses=problem_responses(413, 422))
def classify(body: ClassifyRequest, classifier: ClassifierDep) -> dict:
    profile = body.profile
    industry = body.industry or (profile.industry if profile else "")
    domains = tuple(profile.domains) if profile else ()
    # InputError (empty or oversized situation) → 422 in api/errors.py
    decision = classifier.classify(body.situation, Profile(industry, domains))
    return decision_json(classifier, decision)
