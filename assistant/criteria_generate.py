"""Conditions generated from a criterion's own text, for criteria the team has not annotated.

The text is split into its 或者-branches; in each branch the words before the first 未/没有
name what it is about (a fact that must be stated), and the words after it name what is
missing. Crude on purpose: hand-written annotations in corpus/criteria/ replace these.
"""

from __future__ import annotations

import re

from .criteria import MISSING, PRESENT, Alternative, Condition

_MARKER = re.compile(r"^(第[一二三四五六七八九十百]+条\s*|[（(][一二三四五六七八九十]+[）)]|\d+[.．、]|[a-z]\)|[一二三四五六七八九十]+、)\s*")
_BRANCH = re.compile(r"，或者|；或者|；|，或")
_NEGATION = re.compile(r"未经|未按照|未按|未|没有|不具有|不符合|不满足|缺失|失效")
_VERB = re.compile(r"^(设置|配备|安装|采取|落实|建立|制定|实施|执行|进行|取得|实现|编制|开展|装设|配齐|留设|对)+")
_SPLIT = re.compile(r"[，。；：、（）()《》“”\s]|等|和|与|及|或者|以及|的|在|对|有|为")


def _fragments(text: str, limit: int = 5) -> tuple[str, ...]:
    parts = [p for p in _SPLIT.split(text) if 2 <= len(p) <= 12]
    parts.sort(key=len, reverse=True)
    seen: list[str] = []
    for p in parts:
        if p not in seen:
            seen.append(p)
    return tuple(seen[:limit])


def generated_alternatives(text: str) -> tuple[Alternative, ...]:
    body = _MARKER.sub("", text.split("\n")[0]).rstrip("。；;的 ")
    alternatives = []
    for branch in (b.strip("，；。 ") for b in _BRANCH.split(body)):
        if not branch:
            continue
        m = _NEGATION.search(branch)
        conditions = []
        if m:
            subject, missing = branch[: m.start()], _VERB.sub("", branch[m.end():])
            if _fragments(subject):
                conditions.append(Condition(fact=subject, kind=PRESENT, terms=_fragments(subject),
                                            ask=f"现场是否涉及：{subject}？"))
            conditions.append(Condition(fact=branch[m.start():], kind=MISSING, terms=_fragments(missing),
                                        ask=f"是否{branch[m.start():].replace('未', '已', 1)}？"))
        else:
            conditions.append(Condition(fact=branch, kind=PRESENT, terms=_fragments(branch),
                                        ask=f"现场是否存在：{branch}？"))
        alternatives.append(Alternative(when=branch, conditions=tuple(conditions)))
    return tuple(alternatives)
