"""Request/response models of the audit routes (GET /v1/audit, GET /v1/audit/{id})."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

AuditKind = Literal["classify", "chat"]


class DocumentVersion(BaseModel):
    version: str = Field(description="文档内容哈希（入库时计算），文本变化则不同")
    title: str
    doc_number: str
    status: str


class AuditEntryOut(BaseModel):
    id: str = Field(description="审计记录ID（即响应头 X-Audit-Id）")
    created_at: datetime = Field(description="记录时间（UTC）")
    owner: str = Field(description="调用者（API 密钥的所有者）")
    kind: AuditKind
    input: dict[str, Any] = Field(description="输入：情形描述或消息、行业/领域画像、会话ID与当时的会话历史")
    output: dict[str, Any] = Field(description="当时返回的 JSON 原样（判定结果或对话回复）")
    generation: str = Field(description="所用索引版本（data/generations/<名称>）")
    documents: dict[str, DocumentVersion] = Field(description="所引文档的版本：slug → 内容哈希等")
    fingerprint: dict[str, str] = Field(description="索引版本的指纹（入库流程版本、向量模型、文档清单哈希）")
    code_version: dict[str, str] = Field(description="程序版本：软件包、提交、入库流程、判定规则（标注）哈希、LLM 模型")


class AuditSummaryOut(BaseModel):
    id: str
    created_at: datetime
    kind: AuditKind
    generation: str
    text: str = Field(description="输入文字（情形描述或消息，截取前 200 字）")
    result: str = Field(description="判定结论（major/general/…）或回复类型（answer/classification/…）")


class AuditListOut(BaseModel):
    entries: list[AuditSummaryOut]
