"""Admin: upload corpus documents, rebuild the index while the server keeps answering.

An upload is checked (ingest/uploads.py), stored in the data dir's uploads folder and ingested
with the configured corpus into a new generation in a background thread; the running server
switches to it when it is published (api/live_index.py). One rebuild at a time: a request made
while one runs is queued (202, `queued: true`) and answered by one more rebuild afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from api.admin_schemas import IngestStatus, UploadedFileEntry, UploadList, UploadResult
from api.errors import (
    ApiError,
    Conflict,
    IndexUnavailable,
    InvalidInput,
    PayloadTooLarge,
    problem_responses,
)
from api.live_index import LiveIndex, read_status
from api.routes.deps import AppState, get_state, require_role
from api.settings import Settings
from ingest.manifest import load_manifest
from ingest.pipeline import mark_unverified
from ingest.uploads import (
    CheckedUpload,
    UploadConflict,
    UploadLimits,
    UploadRefused,
    list_uploads,
    remove_upload,
    store,
    uploads_dir,
    validate,
)

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_role("admin"))],
                   responses=problem_responses(500))


class UploadNotFound(ApiError):
    status_code = 404


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _live(request: Request) -> LiveIndex:
    live = getattr(request.app.state, "live_index", None)
    if live is None:
        raise IndexUnavailable("服务正在启动，暂不能重建索引")
    return live


def _uploaded_slugs(state: AppState, data_dir: FilePath) -> dict[str, list[str]]:
    """File name in the uploads folder → slugs of its documents in the index in use."""
    if state.index is None:
        return {}
    folder = uploads_dir(data_dir).resolve()
    out: dict[str, list[str]] = {}
    for doc in state.index.store.documents.values():
        path = FilePath(doc.source_path)
        if path.parent == folder:
            out.setdefault(path.name, []).append(doc.slug)
    return out


def _corpus_slugs(state: AppState, data_dir: FilePath) -> frozenset[str]:
    """Slugs the configured corpus provides: an upload may not take them over."""
    if state.index is None:
        return frozenset()
    folder = uploads_dir(data_dir).resolve()
    return frozenset(d.slug for d in state.index.store.documents.values() if FilePath(d.source_path).parent != folder)


def _upload_json(checked: CheckedUpload, manifest) -> dict:
    docs = []
    for parsed in checked.documents:
        d = mark_unverified(parsed, manifest).document
        docs.append({"slug": d.slug, "title": d.title, "doc_number": d.doc_number, "status": d.status,
                     "status_note": d.status_note, "clauses": len(parsed.clauses),
                     "in_manifest": manifest.get(d.slug) is not None})
    return {"name": checked.stored_name, "original_name": checked.original_name, "format": checked.format,
            "size": checked.size, "pages": checked.pages, "sha256": checked.sha256, "documents": docs}


@router.post("/documents", response_model=UploadResult, status_code=202, summary="上传法规标准文档并重建索引",
             responses=problem_responses(409, 413, 422, 503))
async def upload_document(
    request: Request,
    state: Annotated[AppState, Depends(get_state)],
    file: Annotated[UploadFile, File(description="PDF（文字版）、DOCX，或带YAML文件头的Markdown/TXT（UTF-8）")],
) -> dict:
    settings = _settings(request)
    live = _live(request)
    data = await file.read()
    limits = UploadLimits(settings.max_upload_bytes, settings.max_upload_pages,
                          settings.max_upload_unzipped_bytes, settings.max_upload_zip_ratio)
    manifest = load_manifest(settings.manifest)
    protected = _corpus_slugs(state, FilePath(settings.data_dir))

    def check_and_store() -> dict:
        checked = validate(data, file.filename or "", limits, manifest, FilePath(settings.data_dir), protected)
        body = _upload_json(checked, manifest)
        store(checked, FilePath(settings.data_dir))
        return body

    try:
        # Parsing a PDF is CPU-bound: keep the event loop answering other requests.
        document = await run_in_threadpool(check_and_store)
    except UploadConflict as exc:
        raise Conflict(exc.zh) from None
    except UploadRefused as exc:
        raise (PayloadTooLarge(exc.zh) if exc.too_large else InvalidInput(exc.zh)) from None
    return {"document": document, "ingest": live.rebuilds.request("upload")}


@router.get("/documents", response_model=UploadList, summary="已上传的文档")
def list_documents(request: Request, state: Annotated[AppState, Depends(get_state)]) -> dict:
    data_dir = FilePath(_settings(request).data_dir)
    indexed = _uploaded_slugs(state, data_dir)
    entries = []
    for path in list_uploads(data_dir):
        stat = path.stat()
        entries.append(UploadedFileEntry(
            name=path.name, size=stat.st_size,
            modified_at=datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
            documents=indexed.get(path.name, [])))
    return {"uploads": entries}


@router.delete("/documents/{name}", response_model=IngestStatus, status_code=202,
               summary="删除上传的文档并重建索引", responses=problem_responses(404, 422, 503))
def delete_document(request: Request,
                    name: Annotated[str, Path(min_length=1, max_length=100, description="上传目录中的文件名")]) -> dict:
    live = _live(request)
    if not remove_upload(FilePath(_settings(request).data_dir), name):
        raise UploadNotFound(f"未找到上传的文档 {name}")
    return live.rebuilds.request("delete")


@router.get("/ingest", response_model=IngestStatus, summary="索引重建状态")
def ingest_status(request: Request) -> dict:
    return read_status(FilePath(_settings(request).data_dir))


@router.post("/reindex", response_model=IngestStatus, status_code=202, summary="立即重建索引（语料目录与上传文档）",
             responses=problem_responses(503))
def reindex(request: Request) -> dict:
    return _live(request).rebuilds.request("reindex")
