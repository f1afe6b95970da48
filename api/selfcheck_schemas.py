"""Request and response models of the self-check and paperwork routes (the OpenAPI contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import ChatCitation, Label, ProfileIn

Answer = Literal["是", "否", "不确定"]


class ResolvedProfileOut(BaseModel):
    industries: list[str] = Field(description="适用的行业（声明的与推定的）")
    domains: list[str] = Field(description="适用的专项领域（声明的与推定的）")
    declared_industry: str
    declared_domains: list[str]
    inferred_industries: list[str] = Field(description="从单位描述推定的行业")
    inferred_domains: list[str] = Field(description="从单位描述或行业推定的专项领域")
    description: str


class ChecklistItemOut(BaseModel):
    item_id: str = Field(description="检查项ID（提交答案时用）：条款ID，同一条款的其他“或者”分支加 #2、#3…")
    clause_id: str
    question: str = Field(description="是/否问题")
    hazard_if: Literal["yes", "no"] = Field(description="回答“是”(yes)或“否”(no)时构成重大事故隐患")
    hazard_answer: Answer
    branch: str = Field(description="问题对应的条款分句")
    citation: ChatCitation
    to_check: list[str] = Field(description="不确定时应核实的事项")


class DocumentRef(BaseModel):
    slug: str
    title: str
    doc_number: str


class ChecklistGroupOut(BaseModel):
    group_id: str
    heading: str = Field(description="条款引用，如《工贸企业重大事故隐患判定标准》（应急管理部令第10号）第十一条")
    lead_in: str
    document: DocumentRef
    items: list[ChecklistItemOut]


class ChecklistOut(BaseModel):
    profile: ResolvedProfileOut
    groups: list[ChecklistGroupOut]
    item_count: int
    criteria_count: int


class EnterpriseIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="单位名称")
    code: str | None = Field(default=None, max_length=64, description="统一社会信用代码")


class SelfCheckRequest(BaseModel):
    enterprise: EnterpriseIn
    profile: ProfileIn | None = None
    description: str = Field(default="", max_length=1000, description="单位描述，如“我们是做铝型材挤压和熔铸的”")
    answers: dict[str, Answer] = Field(default_factory=dict, description="检查项ID → 是/否/不确定；未答视为不确定")


class LegalConsequenceOut(ChatCitation):
    role: str
    role_zh: str
    note: str
    retrieved: bool = Field(description="检索所得（非人工整理），需执法人员确认")
    confirmation: str


class AnsweredOut(BaseModel):
    item_id: str
    question: str
    answer: Answer


class HazardOut(BaseModel):
    clause_id: str
    citation: ChatCitation
    answered: list[AnsweredOut]
    obligations: list[LegalConsequenceOut]


class UncertainOut(BaseModel):
    item_id: str
    clause_id: str
    question: str
    citation: ChatCitation
    to_check: list[str]


class SelfCheckReportOut(BaseModel):
    profile: ResolvedProfileOut
    summary: str
    item_count: int
    clear_count: int
    hazards: list[HazardOut]
    uncertain: list[UncertainOut]
    consequences: list[LegalConsequenceOut]


class EnterpriseOut(BaseModel):
    name: str
    code: str | None


class SelfCheckOut(BaseModel):
    id: str
    enterprise: EnterpriseOut
    created_at: datetime
    answers: dict[str, Answer]
    report: SelfCheckReportOut


class SelfCheckSummary(BaseModel):
    id: str
    enterprise: EnterpriseOut
    created_at: datetime
    summary: str
    hazard_count: int
    uncertain_count: int


class PaperworkCriterionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    clause_id: str = Field(min_length=1, max_length=100)
    role: Literal["matched", "nearest"]


class PaperworkFindingIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(max_length=20000)
    label: Label
    criteria: list[PaperworkCriterionIn] = Field(default_factory=list)
    follow_up_questions: list[str] = Field(default_factory=list)


class PaperworkClassificationIn(BaseModel):
    """A `POST /v1/classify` response; only texts, labels and clause IDs are read (quotes are re-taken from the store)."""

    model_config = ConfigDict(extra="ignore")

    findings: list[PaperworkFindingIn]


class PaperworkRequest(BaseModel):
    kind: Literal["record", "order"] = Field(description="record 隐患排查记录 · order 责令限期整改指令书")
    format: Literal["docx", "html"] = "docx"
    classifications: list[PaperworkClassificationIn] = Field(default_factory=list, max_length=50)
    situations: list[str] = Field(default_factory=list, max_length=50, description="现场情形描述，逐条判定后写入")
    self_check_id: str | None = Field(default=None, max_length=64, description="已保存的自查报告ID")
