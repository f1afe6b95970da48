"""Enterprise self-check: the checklist for a profile, submitted answers → a saved report with
history per enterprise, and the report as DOCX or HTML."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.errors import ApiError, InvalidInput, problem_responses
from api.routes.deps import ClassifierDep, PrincipalDep
from api.routes.sessions import get_chat_db
from api.selfcheck_db import SelfCheckStore, UnknownSelfCheckError
from api.selfcheck_schemas import (
    ChecklistOut,
    SelfCheckOut,
    SelfCheckRequest,
    SelfCheckSummary,
)
from api.services import consequence_rules, industry_domains
from assistant.classifier import Classifier
from assistant.selfcheck import (
    ProfileError,
    UnknownItemsError,
    build_checklist,
    build_report,
    resolve_profile,
)

router = APIRouter(tags=["self-check"], responses=problem_responses(500, 503))

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FILE_RESPONSES = {200: {"description": "文件", "content": {DOCX_MEDIA_TYPE: {}, "text/html": {}}}}


class SelfCheckNotFound(ApiError):
    status_code = 404


def get_self_checks(request: Request, principal: PrincipalDep) -> SelfCheckStore:
    """The caller's own enterprises and reports only."""
    return SelfCheckStore(get_chat_db(request).engine, principal.owner)


SelfCheckStoreDep = Annotated[SelfCheckStore, Depends(get_self_checks)]
ReportId = Annotated[str, Path(min_length=1, max_length=64, description="自查报告ID")]


def split_domains(values: list[str]) -> list[str]:
    """domains=粉尘涉爆,有限空间 or domains=粉尘涉爆&domains=有限空间."""
    return [d for v in values for d in re.split(r"[,，、\s]+", v) if d]


def checklist_for(classifier: Classifier, industry: str, domains: list[str], description: str):
    try:
        profile = resolve_profile(classifier, industry, tuple(domains), description, industry_domains())
    except ProfileError as exc:
        raise InvalidInput(str(exc)) from None
    return build_checklist(classifier, profile)


def file_response(content: bytes | str, fmt: str, stem: str) -> Response:
    media = DOCX_MEDIA_TYPE if fmt == "docx" else "text/html; charset=utf-8"
    name = quote(f"{stem}.{fmt}")
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{name}"})


@router.get("/checklists", response_model=ChecklistOut, summary="按单位画像生成重大事故隐患自查检查表",
            responses=problem_responses(422))
def get_checklist(classifier: ClassifierDep,
                  industry: Annotated[str, Query(max_length=50, description="行业，如 有色、机械、铝加工")] = "",
                  domains: Annotated[list[str], Query(description="专项领域，可重复或逗号分隔：粉尘涉爆、涉氨制冷、有限空间、金属冶炼")] = [],  # noqa: B006
                  description: Annotated[str, Query(max_length=1000, description="单位描述，如“我们是做铝型材挤压和熔铸的”")] = "") -> dict:
    return checklist_for(classifier, industry, split_domains(domains), description).to_dict()


@router.post("/self-checks", response_model=SelfCheckOut, status_code=201, summary="提交自查答案，生成并保存自查报告",
             responses=problem_responses(413, 422))
def create_self_check(body: SelfCheckRequest, classifier: ClassifierDep, store: SelfCheckStoreDep) -> dict:
    profile = body.profile
    checklist = checklist_for(classifier, profile.industry if profile else "",
                              list(profile.domains) if profile else [], body.description)
    answers = dict(body.answers)
    try:
        report = build_report(classifier, checklist, answers, consequence_rules(), classifier.retriever)
    except UnknownItemsError as exc:
        raise InvalidInput(str(exc)) from None  # names every unknown item ID
    saved = store.save(body.enterprise.name.strip(), body.enterprise.code,
                       {"industry": profile.industry if profile else "",
                        "domains": list(profile.domains) if profile else [], "description": body.description},
                       answers, report.to_dict())
    return _saved_json(saved)


@router.get("/self-checks", response_model=list[SelfCheckSummary], summary="某单位的自查历史（新的在前）",
            responses=problem_responses(422))
def list_self_checks(store: SelfCheckStoreDep,
                     enterprise: Annotated[str, Query(min_length=1, max_length=200, description="单位名称")]) -> list[dict]:
    return [{"id": s.id, "enterprise": {"name": s.enterprise_name, "code": s.enterprise_code},
             "created_at": s.created_at, "summary": s.report.get("summary", ""),
             "hazard_count": len(s.report.get("hazards") or []),
             "uncertain_count": len(s.report.get("uncertain") or [])} for s in store.history(enterprise.strip())]


@router.get("/self-checks/{report_id}", response_model=SelfCheckOut, summary="查看一份自查报告",
            responses=problem_responses(404, 422))
def get_self_check(report_id: ReportId, store: SelfCheckStoreDep) -> dict:
    return _saved_json(_get(store, report_id))


@router.get("/self-checks/{report_id}/export", response_class=Response, summary="导出自查报告（DOCX 或 HTML）",
            responses={**FILE_RESPONSES, **problem_responses(404, 422)})
def export_self_check(report_id: ReportId, store: SelfCheckStoreDep,
                      format: Annotated[Literal["docx", "html"], Query(description="docx 或 html")] = "docx") -> Response:
    from api.paperwork_render import self_check_docx, self_check_html

    saved = _get(store, report_id)
    data = {"enterprise_name": saved.enterprise_name, "created_at": saved.created_at.isoformat(timespec="seconds"),
            "report": saved.report}
    content = self_check_docx(data) if format == "docx" else self_check_html(data)
    return file_response(content, format, f"{saved.enterprise_name}-自查报告")


@router.delete("/self-checks/{report_id}", status_code=204, response_class=Response, summary="删除一份自查报告",
               responses=problem_responses(404, 422))
def delete_self_check(report_id: ReportId, store: SelfCheckStoreDep) -> Response:
    try:
        store.delete(report_id)
    except UnknownSelfCheckError as exc:
        raise SelfCheckNotFound(str(exc)) from None
    return Response(status_code=204)


def _get(store: SelfCheckStore, report_id: str):
    try:
        return store.get(report_id)
    except UnknownSelfCheckError as exc:
        raise SelfCheckNotFound(str(exc)) from None


def _saved_json(saved) -> dict:
    return {"id": saved.id, "enterprise": {"name": saved.enterprise_name, "code": saved.enterprise_code},
            "created_at": saved.created_at, "answers": saved.answers, "report": saved.report}

