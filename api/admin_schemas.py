"""Response models of the admin routes (corpus uploads, index rebuilds)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class IngestFailure(BaseModel):
    path: str = Field(description="入库失败的文件（上传文件以 @uploads/ 开头）")
    error: str = Field(description="失败原因")


class IngestStatus(BaseModel):
    state: Literal["idle", "running", "finished", "failed"] = Field(
        description="最近一次索引重建：idle 尚未重建、running 进行中、finished 已完成、failed 失败")
    trigger: str | None = Field(default=None, description="触发原因：upload 上传、delete 删除上传文档、reindex 手动重建")
    queued: bool = Field(default=False, description="重建进行中又收到请求：当前重建结束后会再重建一次")
    generation: str | None = Field(default=None, description="当前使用的索引版本")
    previous_generation: str | None = Field(default=None, description="本次重建开始时的索引版本")
    built: str | None = Field(default=None, description="本次重建得到的索引版本（语料无变化时即原版本）")
    changed: bool | None = Field(default=None, description="本次重建是否产生了新版本")
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = Field(default=None, description="入库用时（秒）")
    error: str = Field(default="", description="失败原因（中文）")
    counts: dict[str, int] = Field(default_factory=dict, description="各状态的文档数：新增、更新、未变、删除、失败、跳过")
    failures: list[IngestFailure] = Field(default_factory=list, description="未能入库的文件（其余文件已入库）")


class UploadedDocumentInfo(BaseModel):
    slug: str
    title: str
    doc_number: str
    status: str
    status_note: str = Field(description="未列入文档清单的上传文档标注“上传文档，未经核实”")
    clauses: int = Field(description="识别出的条款数")
    in_manifest: bool = Field(description="是否列入团队的文档清单 corpus/manifest.yaml")


class UploadedFile(BaseModel):
    name: str = Field(description="上传目录中的文件名（删除时使用）")
    original_name: str = Field(default="", description="上传时的文件名")
    format: Literal["pdf", "docx", "md", "txt"]
    size: int = Field(description="字节数")
    pages: int | None = Field(default=None, description="PDF/DOCX 页数（已知时）")
    sha256: str
    documents: list[UploadedDocumentInfo]


class UploadResult(BaseModel):
    document: UploadedFile
    ingest: IngestStatus


class UploadedFileEntry(BaseModel):
    name: str
    size: int
    modified_at: str
    documents: list[str] = Field(description="当前索引中来自该文件的文档slug（尚未入库时为空）")


class UploadList(BaseModel):
    uploads: list[UploadedFileEntry]
