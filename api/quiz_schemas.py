"""Request and response models of the quiz routes (/v1/quizzes): the OpenAPI contract."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import ChatCitation


class QuizRequestIn(BaseModel):
    documents: list[str] = Field(default_factory=list, description="文档slug（可多个），如 gongmao-major-hazard、work-safety-law")
    industries: list[str] = Field(default_factory=list, description="行业：冶金、有色、煤矿…")
    domains: list[str] = Field(default_factory=list, description="专项领域：粉尘涉爆、涉氨制冷、有限空间、金属冶炼")
    single: int = Field(default=0, ge=0, le=200, description="单选题数量")
    multiple: int = Field(default=0, ge=0, le=200, description="多选题数量")
    judge: int = Field(default=0, ge=0, le=200, description="判断题数量")
    fill: int = Field(default=0, ge=0, le=200, description="填空题数量")
    difficulty: Literal["easy", "medium", "hard"] = Field(default="medium", description="难度：easy 容易、medium 中等、hard 较难")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="随机种子；相同请求与种子生成相同试卷，不给则随机")


class QuizCitation(ChatCitation):
    status: str = ""
    effective: str = ""


class QuizScopeOut(BaseModel):
    documents: list[str] = Field(description="干扰项不得出现于其中的文档")
    industry: str = ""
    domain: str = ""


class QuestionOut(BaseModel):
    id: str
    type: Literal["single", "multiple", "judge", "fill"]
    type_zh: str = Field(default="", description="单选题、多选题、判断题、填空题")
    family: str = Field(description="出题来源：criterion_choice、criterion_judge、number_choice、number_judge、number_fill、term_fill、duty_fill")
    difficulty: str
    stem: str = Field(description="题干；填空题的空位为 ____")
    options: dict[str, str] = Field(description="选项（单选、多选）；判断题、填空题为空")
    answer: str = Field(description="单选 \"A\"、多选 \"ACD\"、判断 正确/错误、填空为所填内容")
    explanation: str = Field(description="解析（中文，说明理由并指明条款）")
    citations: list[QuizCitation]
    frame: str = Field(default="", description="校验用：选项或答案所代入的条款原文片段（空位为 ____）")
    support: dict[str, str] = Field(default_factory=dict, description="校验用：正确选项 → 出处条款ID")
    scope: QuizScopeOut


class QuizOut(BaseModel):
    id: str = Field(description="试卷编号（由请求与种子决定）")
    seed: int
    request: QuizRequestIn
    requested: dict[str, int] = Field(description="各题型请求数量")
    produced: dict[str, int] = Field(description="各题型实际生成数量（校验未通过的题目已重出或舍弃）")
    dropped: dict[str, int] = Field(default_factory=dict, description="生成过程中被校验拒绝的候选题，按原因计数")
    questions: list[QuestionOut]
