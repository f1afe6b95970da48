"""Hazard ledgers (隐患台账): upload an XLSX/CSV, get it back classified row by row with tallies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.errors import ApiError, InvalidInput, problem_responses
from api.ledger_io import (
    CONTENT_TYPES,
    XLSX,
    preview_json,
    process_ledger,
    read_ledger,
    summary_json,
)
from api.ledger_store import LedgerStore, UnknownLedgerError
from api.routes.deps import ClassifierDep, Principal, PrincipalDep
from api.settings import get_settings
from assistant.ledger import LedgerError

router = APIRouter(tags=["ledgers"], responses=problem_responses(500, 503))

LedgerLabel = Literal["major", "general", "insufficient", "out_of_scope", "empty"]


# -- response models ------------------------------------------------------------------------------
class LedgerLabelCount(BaseModel):
    label: LedgerLabel
    name: str = Field(description="判定结果（中文）：重大事故隐患、一般事故隐患、待补充信息、非安全隐患描述、空行")
    count: int


class LedgerIndustryCount(BaseModel):
    industry: str = Field(description="行业（台账行业列或默认行业，按判定标准的行业名归并；未填为“未注明行业”）")
    total: int = Field(description="重大、一般、待补充三类合计")
    major: int
    general: int
    insufficient: int


class LedgerClauseCount(BaseModel):
    clause_id: str
    citation: str
    total: int = Field(description="以该条款为判定依据（重大）或最相近条款（一般、待补充）的行数")
    major: int
    general: int
    insufficient: int


class LedgerColumns(BaseModel):
    sheet: str | None = Field(description="XLSX：台账所在工作表；CSV 为 null")
    header_row: int = Field(description="表头所在行号（从1起）")
    description: str = Field(description="识别出的隐患描述列名")
    industry: str | None
    unit: str | None


class LedgerSummary(BaseModel):
    headline: str = Field(description="如“共 1000 条：重大事故隐患 12 条、一般事故隐患 900 条、待补充信息 88 条”")
    rows: int = Field(description="表头以下的行数（含空行）")
    distinct_descriptions: int = Field(description="去重后实际判定的描述条数")
    counts: list[LedgerLabelCount]
    by_industry: list[LedgerIndustryCount]
    top_clauses: list[LedgerClauseCount] = Field(description="最常涉及的条款（前10）")
    columns: LedgerColumns
    seconds: float = Field(description="判定用时（秒）")


class LedgerRow(BaseModel):
    row: int = Field(description="在原表中的行号（从1起）")
    unit: str
    industry: str
    description: str
    label: LedgerLabel
    result: str = Field(description="判定结果列")
    basis: str = Field(description="判定依据列：条款引用与原文")
    nearest: str = Field(description="最相近条款列")
    questions: list[str] = Field(description="待补充信息列：需追问的事实")
    clause_ids: list[str]
    nearest_clause_ids: list[str]


class LedgerOut(BaseModel):
    id: str
    filename: str = Field(description="上传的文件名")
    result_filename: str
    rows: int
    headline: str
    summary: LedgerSummary
    preview: list[LedgerRow] = Field(description="前50行及其新增列")
    download_url: str
    created_at: datetime


# -- routes ---------------------------------------------------------------------------------------
class LedgerNotFound(ApiError):
    status_code = 404


def _store(request: Request, principal: Principal) -> LedgerStore:
    """The caller's own ledgers only."""
    settings = getattr(request.app.state, "settings", None) or get_settings()
    return LedgerStore(FilePath(settings.data_dir) / "ledgers", principal.owner)


def _result_filename(uploaded: str, kind: str) -> str:
    stem = FilePath(uploaded.replace("\\", "/")).stem.strip() or "隐患台账"
    return f"{stem[:80]}-判定结果.{kind}"


LedgerId = Annotated[str, Path(min_length=1, max_length=64, description="台账判定结果编号")]


@router.post("/ledgers", response_model=LedgerOut, status_code=201, summary="上传隐患台账（XLSX/CSV）批量判定",
             responses=problem_responses(413, 422))
async def upload_ledger(
    request: Request,
    classifier: ClassifierDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="隐患台账：XLSX 或 CSV（UTF-8 / GBK），每行一条隐患")],
    industry: Annotated[str, Form(max_length=50, description="默认行业（台账无行业列或该行未填时使用）")] = "",
) -> dict:
    data = await file.read()
    filename = FilePath((file.filename or "").replace("\\", "/")).name or "隐患台账"
    store = _store(request, principal)

    def build(ledger_id: str, folder: FilePath) -> dict:
        source = read_ledger(data)  # sniffed from the content, not the name
        stored_as = f"result.{source.kind}"
        result, seconds = process_ledger(classifier, source, folder / stored_as, industry)
        return {
            "id": ledger_id, "filename": filename, "result_filename": _result_filename(filename, source.kind),
            "stored_as": stored_as, "rows": result.summary.rows, "headline": result.summary.headline,
            "summary": summary_json(result, source, seconds), "preview": preview_json(result),
            "download_url": f"/v1/ledgers/{ledger_id}/file", "created_at": datetime.now(UTC).isoformat(),
        }

    try:
        # Classification is CPU-bound: keep the event loop free for other requests.
        return await run_in_threadpool(store.create, build)
    except LedgerError as exc:
        raise InvalidInput(str(exc)) from None


@router.get("/ledgers/{ledger_id}", response_model=LedgerOut, summary="查看台账判定结果的汇总与预览",
            responses=problem_responses(404, 422))
def get_ledger(ledger_id: LedgerId, request: Request, principal: PrincipalDep) -> dict:
    try:
        return _store(request, principal).record(ledger_id)
    except UnknownLedgerError as exc:
        raise LedgerNotFound(str(exc)) from None


@router.delete("/ledgers/{ledger_id}", status_code=204, response_class=Response, summary="删除台账判定结果及其文件",
               responses=problem_responses(404, 422))
def delete_ledger(ledger_id: LedgerId, request: Request, principal: PrincipalDep) -> Response:
    try:
        _store(request, principal).delete(ledger_id)
    except UnknownLedgerError as exc:
        raise LedgerNotFound(str(exc)) from None
    return Response(status_code=204)


@router.get("/ledgers/{ledger_id}/file", response_class=FileResponse, summary="下载判定后的台账文件",
            responses={200: {"description": "加了判定列（XLSX 另有汇总表和图表）的台账文件",
                             "content": {CONTENT_TYPES[XLSX]: {}, "text/csv": {}}},
                       **problem_responses(404, 422)})
def download_ledger(ledger_id: LedgerId, request: Request, principal: PrincipalDep) -> FileResponse:
    try:
        path, record = _store(request, principal).result_file(ledger_id)
    except UnknownLedgerError as exc:
        raise LedgerNotFound(str(exc)) from None
    kind = path.suffix.lstrip(".")
    name = record["result_filename"]
    fallback = f"ledger-{ledger_id[:8]}-result.{kind}"  # for clients without RFC 5987 support
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return FileResponse(path, media_type=CONTENT_TYPES[kind], headers={"Content-Disposition": disposition})
