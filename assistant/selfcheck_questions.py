"""Criterion text → plain yes/no questions an enterprise lead can answer, by rules. Pure.

A branch saying something required is missing ("未设置…", "…不符合…", "…失效") becomes
"…是否已…？" (a hazard when the answer is 否); a branch describing a dangerous state becomes
"…是否采用/存在/超过…？" or "是否存在…的情况？" (a hazard when the answer is 是). The 或者-branches
of a clause become separate questions, so each can be answered on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

YES, NO = "yes", "no"

_NUMBERING = re.compile(
    r"^\s*(?:第[一二三四五六七八九十百零]+条\s*|[（(][一二三四五六七八九十百零\d]+[)）]\s*|"
    r"[一二三四五六七八九十百零]+、\s*|\d{1,2}\s*[.．、]\s*|[a-z]\)\s*)")
# 或者-branches at clause level ("…，或者…"); an 或者 inside an object ("A或者B") stays.
_BRANCH_SPLIT = re.compile(r"[，,；;]\s*(?:或者|或)(?=[^者])")
# Negations and the words that state the requirement met, most specific first.
_NEGATIONS = (
    ("没有", "有"), ("不符合", "符合"), ("不满足", "满足"), ("不具备", "具备"), ("不能", "能"),
    ("达不到", "达到"), ("不按", "按"), ("尚未", "已"), ("未", "已"),
)
_ACTION_VERBS = ("停止", "进行", "设置", "采取", "按", "执行", "落实", "建立", "配备", "安装", "取得", "撤出", "实施")
# Set-up verbs whose "未设置A或者B" is met only when both A and B are set.
_SETUP_VERBS = ("设置", "配备", "安装", "装设", "设", "配置", "建立")
# A subject ending like this means the negation sits in a modifier ("发包给未取得执照的单位").
_DANGLING = ("给", "由", "向", "将", "把", "存在")
# "…缺失或失效" / "…失效" at the end of a branch: the device is missing or not working.
_BROKEN = re.compile(r"(?:缺失或者?失效|缺失或者?损坏|失效或者?缺失|缺失|失效|损坏|无效)$")
# Verbs that state a dangerous state; "是否" goes right before the first one that is not part of
# a modifier ("采用水冷冷却的冶炼炉窑…存在…": 采用 modifies, 存在 states).
_STATE_VERBS = (
    "设置在", "设在", "布置在", "位于", "设有", "采用", "选用", "使用", "共用", "存在", "出现", "发生",
    "超过", "超出", "大于", "小于", "低于", "少于", "高于", "不足", "连通", "互联互通", "混合储存", "混存",
    "直接加热", "擅自", "违反", "隐瞒", "发包", "转包", "压缩", "关闭", "破坏", "篡改", "以“", "在无",
)
# State verbs that may close a sentence; the others need an object ("…造成破坏" is no question).
_ENDING_VERBS = ("连通", "互联互通", "混合储存", "混存")
# Two facts joined, or a consequence: one question about the whole situation reads plainest.
_COMPOUND = ("造成", "导致", "并且", "，且", "仍", "致使", "；")
_MODIFIER_NEGATION = re.compile(r"^[^，]*?的(?:情况|情形)下")


@dataclass(frozen=True)
class Question:
    text: str  # the question, ending in ？
    hazard_if: str  # "yes" | "no": the answer that means the hazard is present
    branch: str  # the part of the clause it asks about


def clause_body(text: str) -> str:
    """The clause without its numbering and closing "…的；"."""
    body = _NUMBERING.sub("", text.strip())
    body = re.sub(r"\s+", "", body)
    body = body.rstrip("；;。.，,：: ")
    # "…设施的（倾动式熔炼炉…除外）" → keep the exception, drop the closing 的
    body = re.sub(r"的(（[^（）]*除外）)$", r"\1", body)
    if body.endswith("的") and not body.endswith("目的"):
        body = body[:-1]
    return body


def split_branches(body: str) -> list[str]:
    parts = [p.strip("，,；; ") for p in _BRANCH_SPLIT.split(body)]
    return [p for p in parts if p]


def _negation(branch: str) -> tuple[int, str, str] | None:
    best = None
    for word, positive in _NEGATIONS:
        at = branch.find(word)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, word, positive)
    if best is not None and best[1] == "没有" and not branch[best[0] + 2:].startswith(_ACTION_VERBS):
        best = (best[0], "没有", "有")  # 没有备用主要通风机 → 是否有备用主要通风机
    elif best is not None and best[1] == "没有":
        best = (best[0], "没有", "已")  # 没有停止用电作业 → 是否已停止用电作业
    return best


def _state_verb_position(branch: str) -> int | None:
    found = sorted((at, verb) for verb in _STATE_VERBS for at in [branch.find(verb)]
                   if at >= 0 and (len(branch) - at - len(verb) >= 2 or verb in _ENDING_VERBS))
    for n, (at, verb) in enumerate(found):
        later = [a for a, _ in found[n + 1:] if a > at]
        # A verb followed by 的 before the next verb only modifies the noun that follows.
        if later and "的" in branch[at:later[0]]:
            continue
        return at
    return None


def _ask_missing(branch: str, at: int, word: str, positive: str) -> Question | None:
    subject, rest = branch[:at], branch[at + len(word):]
    if "或者" in subject or subject.endswith(_DANGLING) or _MODIFIER_NEGATION.match(rest):
        return None
    # "…资格，上岗作业" → "…资格后上岗作业"; any other second clause makes it a compound.
    if "，" in rest:
        head, _, tail = rest.rpartition("，")
        if "，" in head or len(tail) > 6 or _negation(tail) or not tail.endswith(("作业", "上岗", "使用", "生产")):
            return None
        rest = f"{head}后{tail}"
    if "；" in rest or ";" in rest or "且" in rest:
        return None
    # "未编制、未审核方案" → "已编制、审核方案"
    rest = re.sub(r"(?<=[、和])(?:未|没有)", "", rest)
    if "或者" in rest:
        # "未设置A或者B" is met only when both are set; any other 或者 joins two situations.
        if not rest.startswith(_SETUP_VERBS) or re.search(r"或者.*(?:未|不)", rest):
            return None
        rest = rest.replace("或者", "和")
    return Question(f"{subject}是否{positive}{rest}？", NO, branch)


def question_for_branch(branch: str) -> Question:
    if not any(mark in branch for mark in _COMPOUND):
        neg = _negation(branch)
        if neg is not None:
            asked = _ask_missing(branch, *neg)
            if asked is not None:
                return asked
        else:
            broken = _BROKEN.search(branch)
            if broken and broken.start() > 0:
                return Question(f"{branch[:broken.start()]}是否齐全有效？", NO, branch)
            at = _state_verb_position(branch)
            # "分包、转包生产线": the verb is one of a list of verbs, not the predicate of a subject.
            if at is not None and not branch[:at].endswith("、"):
                return Question(f"{branch[:at]}是否{branch[at:]}？", YES, branch)
    if branch.startswith("存在") or branch.endswith(("情形", "情况")):
        # "存在未按照规定…情形" already names the situation: no second 存在/情况
        return Question(f"是否{branch}？" if branch.startswith("存在") else f"是否存在{branch}？", YES, branch)
    return Question(f"是否存在{branch}的情况？", YES, branch)


def _sublist_intro(lead_in: str) -> str:
    """The intro of a nested list ("（一）安全出口存在下列情形之一的：") when the item is one of its
    entries, else ""."""
    lines = [line for line in lead_in.split("\n") if line.strip()]
    if len(lines) < 2:
        return ""
    last = lines[-1].strip()
    return last if "下列" in last else ""


_LIST_OF_SITUATIONS = re.compile(r"(.*?)(存在|有|出现)下列(.*?)之一$")


def _with_entry(intro: str, entry: str) -> Question:
    """A question about one entry of a nested list: the intro asked, the entry after a colon."""
    body = clause_body(intro)
    branches = split_branches(body)
    body = next((b for b in reversed(branches) if "下列" in b), body)
    listed = _LIST_OF_SITUATIONS.match(body)
    if listed:
        subject, verb, kind = listed.groups()
        return Question(f"{subject}是否{verb}以下{kind or '情形'}：{entry}？", YES, f"{body}：{entry}")
    body = re.sub(r"下列(.*?)之一", r"以下\1", body).replace("下列", "以下")
    asked = question_for_branch(body)
    return Question(asked.text.rstrip("？") + f"：{entry}？", asked.hazard_if, f"{body}：{entry}")


def questions_for(text: str, lead_in: str = "") -> list[Question]:
    """Questions for one criterion clause; several when its 或者-branches read better apart."""
    body = clause_body(text)
    intro = _sublist_intro(lead_in)
    if intro:
        return [_with_entry(intro, body)]
    branches = split_branches(body) or [body]
    subject = _subject(branches[0])
    out = []
    for n, branch in enumerate(branches):
        # "熏蒸作业场所未配备A，或者未配备B": the second branch is about the same place — until
        # a branch names a subject of its own.
        if n and subject and branch.startswith("未") and not branch.startswith("未对") and subject not in branch:
            branch = subject + branch
        elif n and _subject(branch) != subject:
            subject = ""
        out.append(question_for_branch(branch))
    return out


def _subject(branch: str) -> str:
    """What the first branch is about: the words before its negation or state verb."""
    neg = _negation(branch)
    at = neg[0] if neg is not None else _state_verb_position(branch)
    subject = branch[:at] if at else ""
    return subject if len(subject) >= 2 and "或者" not in subject and not subject.endswith(_DANGLING) else ""
