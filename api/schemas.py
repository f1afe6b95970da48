"""The HTTP API's response and request models: the OpenAPI document is built from these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Label = Literal["major", "general", "insufficient", "out_of_scope"]


# -- errors ------------------------------------------------------------------------------
class InvalidParam(BaseModel):
    name: str = Field(description="出错的参数或字段，如 q、k、situation")
    reason: str = Field(description="中文说明")


class Problem(BaseModel):
    """RFC 9457 problem details, served as application/problem+json."""

    type: str = Field(description="问题类型URI")
    title: str = Field(description="问题类别（中文）")
    status: int = Field(description="HTTP状态码")
    detail: str = Field(description="面向用户的中文说明")
    invalid_params: list[InvalidParam] | None = Field(default=None, description="请求校验失败时逐项说明")


# -- health ------------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    generation: str = Field(description="当前索引代号")
    documents: int
    clauses: int
    degraded: list[Literal["dense-unavailable", "database-unavailable"]] = Field(
        default_factory=list, description="降级项：dense-unavailable（向量检索不可用，仅用 BM25 检索），"
                                          "database-unavailable（会话数据库不可用）；为空表示全部正常")


# -- documents and clauses -------------------------------------------------------------------
class DocumentOut(BaseModel):
    """One document, as `hazard docs --json` lists it."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    title: str
    doc_number: str
    status: str
    effective: str
    clause_count: int
    kind: str
    issuer: str
    issued: str
    role: str
    industries: list[str]
    domains: list[str]
    complete: bool
    metadata_only: bool = Field(description="语料中只有元数据、没有经核实的正文")
    missing: list[str]
    replaces: list[str]
    replaced_by: list[str]
    status_note: str


class ClauseRef(BaseModel):
    clause_id: str
    citation: str
    text: str


class ClauseOut(BaseModel):
    clause_id: str
    text: str = Field(description="官方原文")
    citation: str
    # GB clauses number as "4.3" / "b", so article and item may be strings.
    article: int | str
    item: int | str | None
    sub_item: int | None
    lead_in: str
    chapter: str
    parent: ClauseRef | None
    children: list[ClauseRef]
    siblings: list[ClauseRef]
    document: DocumentOut


# -- search ------------------------------------------------------------------------------
class SearchResult(BaseModel):
    clause_id: str
    citation: str
    score: float = Field(description="融合相关度（或重排分数）")
    quote: str
    document_title: str
    doc_number: str
    status: str
    bm25: float | None
    dense: float | None


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]


# -- classify (the `hazard classify --json` contract, see api/contracts.py) ---------------------
class ProfileIn(BaseModel):
    industry: str = Field(default="", description="行业：冶金、有色、建材、机械、轻工、纺织、烟草、商贸、煤矿…")
    domains: list[str] = Field(default_factory=list, description="专项领域：粉尘涉爆、涉氨制冷、有限空间、金属冶炼")


class ClassifyRequest(BaseModel):
    situation: str = Field(description="现场情形描述，可列出多项发现")
    industry: str = Field(default="", description="行业；与 profile.industry 同义，两者都给时以此为准")
    profile: ProfileIn | None = None


class Evidence(BaseModel):
    fact: str
    status: Literal["met", "contradicted", "unknown"]
    evidence: str = Field(description="输入中决定该条件的片段")
    question: str


class ChatCitation(BaseModel):
    """A clause citation: the contract's structured fields and the official text."""

    clause_id: str
    citation: str
    document_title: str
    doc_number: str
    article: int | str
    item: int | str | None
    sub_item: int | None
    quote: str = Field(description="条款原文（与条款库一致）")


class CriterionRef(ChatCitation):
    role: Literal["matched", "nearest"]


class CriterionDetail(CriterionRef):
    status: str
    alternative: str = Field(description="匹配到的“或者”分支")
    conditions_met: list[Evidence]
    conditions_missing: list[Evidence]
    conditions_unknown: list[Evidence]
    excluded_by: str | None


class UnavailableDocument(BaseModel):
    slug: str
    title: str
    doc_number: str
    status: str


class FindingOut(BaseModel):
    text: str
    label: Label
    confidence: float
    explanation: str
    industries: list[str]
    domains: list[str]
    criteria: list[CriterionDetail]
    follow_up_questions: list[str]
    unavailable_documents: list[UnavailableDocument]


class ClassifyResponse(BaseModel):
    label: Label
    findings: list[FindingOut]
    criteria: list[CriterionRef]
    follow_up_questions: list[str]
    explanation: str


# -- chat (POST /v1/chat, /v1/sessions/{id}) ----------------------------------------------------
ChatKind = Literal["answer", "classification", "clarification", "refusal"]




class ChatRequest(BaseModel):
    session_id: str | None = Field(default=None, max_length=64, description="会话ID；不给则新建会话")
    message: str = Field(min_length=1, max_length=4000, description="用户消息：法规问题、现场情形，或对追问的回答")
    profile: ProfileIn | None = Field(default=None, description="单位画像；给出后记入会话，之后的消息沿用")


class ChatResponse(BaseModel):
    session_id: str
    answer: str = Field(description="回复全文（中文）")
    kind: ChatKind = Field(description="answer 法规解答 · classification 隐患判定 · clarification 请补充或换个说法 · refusal 超出范围")
    citations: list[ChatCitation]
    classification: ClassifyResponse | None = Field(default=None, description="kind 为 classification 时：hazard classify --json 的结构")
    follow_up_questions: list[str]
    searched_query: str = Field(description="实际检索或判定的文本（追问时为结合上文改写后的内容）")


class ChatMessageOut(BaseModel):
    role: Literal["user", "assistant"]
    text: str
    kind: ChatKind | None = Field(description="助手消息的类别；用户消息为 null")
    citations: list[ChatCitation]
    searched_query: str | None
    classification: ClassifyResponse | None
    created_at: datetime


class SessionOut(BaseModel):
    session_id: str
    created_at: datetime
    updated_at: datetime
    messages: list[ChatMessageOut]


# -- chat streamed as server-sent events (POST /v1/chat?stream=true) ---------------------------------
class ChatStreamSegment(BaseModel):
    """Data of a `segment` event: the next piece of the answer."""

    text: str = Field(description="回复的下一段（按句切分；依次拼接即为完整回复）")


class ChatStreamDone(BaseModel):
    """Data of the closing `done` event."""

    session_id: str
    kind: ChatKind
    follow_up_questions: list[str]
    searched_query: str = Field(description="实际检索或判定的文本（追问时为结合上文改写后的内容）")
    degraded: list[str] = Field(default_factory=list, description="本轮的降级项（dense-unavailable：向量检索不可用，"
                                                                  "仅用 BM25 检索）；仅在有降级时出现。非流式响应以 X-Hazard-Degraded 响应头给出")
