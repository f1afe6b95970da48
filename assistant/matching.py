"""Match a criterion's conditions against a described situation (pure, deterministic).

Each condition comes out `met`, `contradicted` or `unknown`, with the span of the input that
decided it. Negation and affirmation are read from cue words next to the matched term in the
same clause of the sentence: 未设置/没有/坏了/失效 … against 已设置/有/装了/正常 ….
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .criteria import MISSING, NUMBER, PRESENT, Alternative, Condition
from .normalize import clean_input, fold_width
from .quantities import figures
from .typos import fix_slips

MET, CONTRADICTED, UNKNOWN = "met", "contradicted", "unknown"

NEG_BEFORE = ("不涉及", "不在", "不属于", "不位于", "不存在", "没在", "没有", "没装", "没设", "没配", "没做", "没搞", "未经", "从不", "从没", "不是", "缺少", "缺乏",
              "未", "没", "无", "缺", "不", "非", "忘了", "取消了", "拆了", "拆掉了", "停了", "关了")
NEG_AFTER = ("没有", "啥都没", "都没", "也没", "都不", "没", "缺失", "失效", "失灵", "不灵", "坏了", "坏", "损坏",
             "故障", "不能", "不好使", "不起作用", "不工作", "不管用", "不响", "不亮", "不全", "不够", "不足",
             "未", "被拆", "拆了", "拆掉", "停用", "关闭", "关了", "短接", "过期", "不合格", "没用", "不用",
             "没开", "不开", "没装", "没配", "没做", "缺", "堵死", "堵住", "堵塞", "封死", "锁死", "挪作他用",
             "停了", "停掉", "断了", "不转", "屏蔽", "旁路", "焊死", "打到手动", "不齐全", "不到位", "不完好",
             "不正常", "无效", "没反应", "无反应", "卡死", "绑死", "不起跳", "不动作", "启动不了", "锁不上", "不能用",
             "割了", "割掉", "割断", "甩了", "拆走", "摘了")
POS_BEFORE = ("已经", "已", "设置了", "装了", "配了", "配备了", "采取了", "安装了", "设有", "配有", "装有",
              "落实了", "做了", "都有", "有")
POS_AFTER = ("正常", "完好", "有效", "齐全", "合格", "都有", "到位", "在用", "没问题", "好的", "齐")
# "切断阀测试记录缺了一次", "登记标志没挂": a negation after a record, sign or label is about that
# paperwork, not about the equipment or act named before it.
PAPERWORK = ("记录", "台账", "标志", "标识", "标签", "标牌", "牌子", "档案", "资料", "签字")
PAPER_AFTER = ("作业票", "工作票", "操作票", "审批单", "审批表", "许可票", "记录", "台账")
# "离浇注跨很远": right after a place, these say the thing is not there (even for stated facts).
FAR_AFTER = ("很远", "较远", "挺远", "比较远", "远着呢")
# Single-character prefixes negate only the word they stand before: in "非突出煤层揭煤前没测"
# the 非 is about 突出煤层, not 揭煤.
_REACH = {"非": 0, "不": 1, "无": 1}
# Words that contain a cue character but are not negations or affirmations; masked before cues
# are looked for (有限空间 is no affirmation, 不同 no negation, 无轨运人车辆 no absence).
NOT_CUES = ("不同", "不少", "不断", "不仅", "不得不", "不锈", "不燃", "不间断", "不规则", "不定期", "非常",
            "无缝", "无机", "无焰", "无尘", "无线", "无人机", "无损", "无轨", "无水", "无极",
            "有没有", "有无", "无关", "有限", "有毒", "有害", "具有", "有关", "所有", "有机", "有色", "有的", "有些", "有点", "含有", "有序")
_MASK = "\u2400"
SEGMENT = re.compile(r"[，,。；;！!？?\n]|但是|但|不过")
# A cue does not reach across these: in "没有支护的基坑旁边堆土" the 没有 is about 支护, not 堆土.
_CUE_BARRIER = re.compile(r"[的就把还]")
# "没装固定的报警器": the 的 of a plain attribute keeps the negation on the thing it describes.
_ATTRIBUTE = re.compile(r"(固定|专门|专用|单独|独立|正规|合格|有效|像样|完整|足够|必要|相应|配套|可靠|正式)的")
_AFTER_BARRIER = re.compile(r"[的把]")  # "证早就过期了": 就 after a term does not cut the cue off


def prepare(text: str) -> str:
    """The form conditions are matched against: cleaned, simplified, width-folded, lower case,
    with pinyin-input slips repaired."""
    return fix_slips(fold_width(clean_input(text)))


@functools.lru_cache(maxsize=65536)
def term_key(term: str) -> str:
    # Annotation terms repeat on every call; OpenCC conversion is the costly part of prepare().
    return prepare(term)


@dataclass(frozen=True)
class Evidence:
    condition: Condition
    status: str
    span: str = ""  # the part of the input that decided it
    partly: bool = False  # unknown, but the description names it (a quantity without its figure)

    def to_dict(self) -> dict:
        return {"fact": self.condition.fact, "status": self.status, "evidence": self.span,
                "question": self.condition.ask}


@dataclass(frozen=True)
class AlternativeResult:
    alternative: Alternative
    status: str  # met | failed | open
    evidence: tuple[Evidence, ...]
    excluded_by: str = ""

    @property
    def met(self) -> list[Evidence]:
        return [e for e in self.evidence if e.status == MET]

    @property
    def contradicted(self) -> list[Evidence]:
        return [e for e in self.evidence if e.status == CONTRADICTED]

    @property
    def unknown(self) -> list[Evidence]:
        return [e for e in self.evidence if e.status == UNKNOWN]

    @property
    def coverage(self) -> float:
        n = len(self.evidence) or 1
        return len(self.met) / n


def _keyed(terms: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(term, matching key) of each term with a non-empty key; annotation term lists repeat on
    every call, so this is remembered per list."""
    try:
        return _keyed_cached(terms)
    except TypeError:  # an unhashable list from a caller
        return tuple((t, k) for t in terms if (k := term_key(t)))


@functools.lru_cache(maxsize=65536)
def _keyed_cached(terms: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((t, k) for t in terms if (k := term_key(t)))


@functools.lru_cache(maxsize=1024)
def _segments(text: str) -> tuple[tuple[int, str], ...]:
    # Every condition of every candidate criterion scans the same input: split it once.
    out, start = [], 0
    for m in SEGMENT.finditer(text):
        out.append((start, text[start:m.start()]))
        start = m.end()
    out.append((start, text[start:]))
    return tuple((s, seg) for s, seg in out if seg.strip())


# After a term, these negate it only when no new object follows: "X没有" / "X没有设置" negate X,
# "X没有Y" negates Y ("倾动式熔炼炉没有应急储存设施" says nothing against 倾动式).
LIST_NEGATIONS = ("啥都没", "都没", "也没", "全没", "都不", "均未", "都未", "全都没")
_OBJECT_TAKING = {"没有", "没", "未", "也没", "都没", "啥都没", "缺", "无"}
_VERB_AFTER_NEGATION = re.compile(
    r"^(有|了|啊|呢|的|过|装|设|配|采取|落实|建立|制定|安装|设置|检测|检查|校验|检验|投用|投入|使用|开|做|按|经|"
    r"取得|考|持|办|到位|到|齐|用|带|戴|系|挂|接|执行|实施|进行|审批|验收|登记|培训|备案|监护|测|通风|处理|撤|停|"
    r"达到|达|满足|符合|通过|开展|及时|按照|按规定|超|建成|建|形成|留设|留|编制|编|制定|报|上报|批准|批|搞|弄|做|打|施工|放|插|夹|垫|拿|领)")


_NOT_WORD = re.compile(r"^[^\u4e00-\u9fff0-9a-z]+")


def _ends_clause(rest: str) -> bool:
    rest = _NOT_WORD.sub("", rest.lstrip(_MASK))  # emoji, punctuation and masks end a clause too
    return not rest or bool(_VERB_AFTER_NEGATION.match(rest))


def _cue_view(segment: str) -> str:
    """The segment with non-cue compounds masked and the 有 of 没有 masked (it is no affirmation);
    same length, so positions still line up."""
    for word in NOT_CUES:
        segment = segment.replace(word, _MASK * len(word))
    return segment.replace("没有", "没" + _MASK).replace("未有", "未" + _MASK)


def _polarity(segment: str, start: int, end: int, before_only: bool, after_cues=None) -> tuple[int, int]:
    """(distance to nearest negation cue, distance to nearest affirmation cue) around [start, end).

    A stated fact is negated only by a cue before it: in "除尘器没有泄爆" the 没有 belongs to
    泄爆, and the dust collector itself is there."""
    # An affirmation may stand further off than a negation: "有出水温度和流量差报警".
    before, after = segment[max(0, start - 16):start], segment[end:end + 12]
    barrier = None
    for barrier in _CUE_BARRIER.finditer(_ATTRIBUTE.sub(lambda m: m[1] + _MASK, before)):
        pass
    if barrier is not None:
        before = before[barrier.end():]
    near_before = before[-8:]
    stop = _AFTER_BARRIER.search(after)
    if stop is not None:
        after = after[:stop.start()]
    inf = 99

    def nearest_before(cues, window=None):
        window = near_before if window is None else window
        best = inf
        for cue in cues:
            i = window.rfind(cue)
            if i >= 0:
                distance = len(window) - (i + len(cue))
                if distance <= _REACH.get(cue, 16):
                    best = min(best, distance)
        return best

    names_no_paperwork = not any(w in segment[start:end] for w in PAPERWORK)

    def nearest_after(cues, skip_paperwork=False):
        best = inf
        for cue in cues:
            i = after.find(cue)
            if i >= 0 and (cue not in _OBJECT_TAKING or _ends_clause(after[i + len(cue):])) \
                    and not (skip_paperwork and any(w in after[:i] for w in PAPERWORK)):
                best = min(best, i)
        return best

    far = nearest_after(FAR_AFTER)
    far = far if far <= 1 else inf
    # "没办有限空间作业票": a negation before a thing that is followed by its permit or record is
    # about the paper.
    neg_before = inf if names_no_paperwork and after.startswith(PAPER_AFTER) else nearest_before(NEG_BEFORE)
    if before_only:
        return min(neg_before, far), nearest_before(POS_BEFORE)
    neg = min(neg_before, far,
              nearest_after(after_cues if after_cues is not None else NEG_AFTER, skip_paperwork=names_no_paperwork))
    pos = min(nearest_before(POS_BEFORE, before), nearest_after(POS_AFTER))
    return neg, pos


def _self_negated(term: str) -> bool:
    return term.startswith(("未", "没", "无", "缺", "不")) and not term.startswith(NOT_CUES)


def find_term(text: str, terms: tuple[str, ...], before_only: bool = False,
              after_cues: tuple[str, ...] | None = None) -> list[tuple[str, str, str]]:
    """Occurrences of any term: (term, polarity, segment); polarity is neg | pos | neutral, or
    self for a term that is itself a negative statement (无证, 没人看着)."""
    # Most calls find nothing: test the whole text once before walking its segments.
    keyed = _keyed(terms)
    present = [(term, key) for term, key in keyed if key in text]
    # "塔吊的司机", "隐患排查治理的制度": a 的 inside a term of three or more characters.
    loose = [] if "的" not in text else \
        [(term, key) for term, key in keyed if len(key) >= 3 and key not in text and key in _without_de(text)[0]]
    if not present and not loose:
        return []
    found = []
    for seg_start, segment in _segments(text):
        view = None
        for term, key, start, end in _occurrences(segment, present, loose):
            if _self_negated(key):
                polarity = "self"  # the term itself says "not …" (无证, 没人看着)
            else:
                view = view or _cue_view(segment)
                neg, pos = _polarity(view, start, end, before_only, after_cues)
                # On a tie the negation wins: 有 sits inside 没有.
                polarity = "neutral" if neg == pos == 99 else "neg" if neg <= pos else "pos"
            found.append((term, polarity, segment.strip()))
    return found


def _occurrences(segment: str, present, loose):
    """(term, key, start, end) of each place a term occurs in the segment; a loose term may have
    one 的 inside it."""
    for term, key in present:
        idx = segment.find(key)
        while idx >= 0:
            yield term, key, idx, idx + len(key)
            idx = segment.find(key, idx + len(key))
    if loose:
        bare, where = _without_de(segment)
        for term, key in loose:
            idx = bare.find(key)
            while idx >= 0:
                start, end = where[idx], where[idx + len(key) - 1] + 1
                if end - start == len(key) + 1:  # exactly one 的, inside the term
                    yield term, key, start, end
                idx = bare.find(key, idx + len(key))


@functools.lru_cache(maxsize=4096)
def _without_de(text: str) -> tuple[str, tuple[int, ...]]:
    """The text without 的, and each kept character's position in the original."""
    where = tuple(i for i, ch in enumerate(text) if ch != "的")
    return "".join(text[i] for i in where), where


def _units(unit: str) -> set[str]:
    """`unit` may list alternatives: "m|米". 人 and 名 are the same unit."""
    units = {prepare(u) for u in unit.split("|") if u}
    if units & {"人", "名"}:
        units |= {"人", "名"}
    return units


def _compare(x: float, op: str, value: float) -> bool:
    return {">": x > value, ">=": x >= value, "<": x < value, "<=": x <= value}.get(op, False)


# Facts about a plant that did not stop work when it had to (未停止作业、撤出人员, 仍组织生产): people
# say so by saying work went on, or the opposite by saying it stopped.
_STOP_WORK_FACT = re.compile(r"停止作业|停止用电作业|停电撤人|撤出|撤人|仍组织生产|仍进行采掘|仍继续|组织生产")
KEPT_WORKING = ("还在生产", "照常生产", "正常生产", "继续生产", "照样生产", "接着生产", "还在干", "照样干", "照常干",
                "继续干", "接着干", "还在作业", "继续作业", "照常作业", "还在施工", "继续施工", "照常施工", "接着施工",
                "还在采", "还在掘", "继续掘进", "还在打眼", "照常出煤", "还在出煤", "人没撤", "人也没撤", "没撤人",
                "没停工", "没停产", "没有停产", "也不停", "照干不误", "人还在里面", "还在开工", "没让撤", "不让撤", "没让停", "不让停",
                "没叫停", "没叫撤")
STOPPED_WORK = ("停工撤人", "停产撤人", "停止作业", "停止生产", "已停工", "立即停工", "马上停工", "已经停工", "停了工",
                "已撤人", "撤出人员", "人员撤出", "人都撤", "撤了人", "人撤了", "已停产", "立即撤人", "马上撤人",
                "停电撤人", "全部撤出", "停了采", "停了作业", "停了生产", "停了工", "停工了", "停产了", "停止了作业",
                "停止了生产", "人都撤了", "人撤出来了")


def _work_went_on(condition: Condition, text: str) -> Evidence | None:
    if condition.kind == NUMBER or not _STOP_WORK_FACT.search(condition.fact) or "期间" in condition.fact \
            or "独立" in condition.fact:
        return None
    for _, polarity, segment in find_term(text, KEPT_WORKING):
        if polarity != "neg":
            return Evidence(condition, MET, segment)
    for _, polarity, segment in find_term(text, STOPPED_WORK, before_only=True):
        if polarity != "neg":
            return Evidence(condition, CONTRADICTED, segment)
    return None


def evaluate_condition(condition: Condition, text: str) -> Evidence:
    """`text` must come from `prepare`."""
    evidence = _evaluate_terms(condition, text)
    if evidence.status == UNKNOWN:
        return _work_went_on(condition, text) or evidence
    return evidence


def _evaluate_terms(condition: Condition, text: str) -> Evidence:
    stated = condition.kind != MISSING
    hits = find_term(text, condition.terms, before_only=stated)
    contra = find_term(text, condition.contra, before_only=stated)
    if condition.kind == NUMBER:
        units = _units(condition.unit)
        for term, _, segment in hits:
            at = segment.find(term_key(term))
            numbers = [(abs(pos - at), n) for n, u, pos in figures(segment) if not units or u in units]
            if numbers and condition.value is not None:
                # The number nearest to the quantity it measures ("±800kV换流变乙炔3" → 3); a span
                # (二三十米) decides only when both its ends agree.
                nearest = min(numbers)[0]
                verdicts = {_compare(n, condition.op, condition.value) for d, n in numbers if d == nearest}
                if len(verdicts) > 1:
                    return Evidence(condition, UNKNOWN, segment, partly=True)
                return Evidence(condition, MET if verdicts.pop() else CONTRADICTED, segment)
        # The quantity is named without a figure ("产量超核定能力了"): unknown, but worth asking for.
        return Evidence(condition, UNKNOWN, hits[0][2] if hits else "", partly=bool(hits))
    if condition.kind == MISSING:
        # A curated opposite ("办了使用登记") is more specific than a negation near a shared word
        # ("登记标志没挂出来"): it decides first.
        for _, polarity, segment in contra:
            if polarity != "neg":
                return Evidence(condition, CONTRADICTED, segment)
        for _, polarity, segment in hits:
            if polarity in ("neg", "self"):
                return Evidence(condition, MET, segment)
        for _, polarity, segment in hits:
            if polarity == "pos":
                return Evidence(condition, CONTRADICTED, segment)
        return Evidence(condition, UNKNOWN)
    # PRESENT: a stated fact; a negated contra word states it too (不是框架结构 → 非框架结构),
    # while a contra that is itself negative (没有超载) states the opposite fact.
    for _, polarity, segment in contra:
        if polarity != "neg":
            return Evidence(condition, CONTRADICTED, segment)
    for _, polarity, segment in hits:
        if polarity != "neg":
            return Evidence(condition, MET, segment)
    for _, polarity, segment in contra:
        if polarity == "neg":
            return Evidence(condition, MET, segment)
    for _, polarity, segment in hits:
        if polarity == "neg":
            return Evidence(condition, CONTRADICTED, segment)
    return Evidence(condition, UNKNOWN)


@functools.lru_cache(maxsize=8192)
def _longer_terms(alternative: Alternative) -> tuple[tuple[str, ...], ...]:
    """Per condition: the other conditions' longer terms that contain one of its words."""
    keys = [tuple(k for k in map(term_key, c.terms) if k) for c in alternative.conditions]
    return tuple(tuple(sorted({k for j, other in enumerate(keys) if j != i for k in other
                               if any(o != k and o in k for o in own)}, key=len, reverse=True))
                 for i, own in enumerate(keys))


def _masked(text: str, words: tuple[str, ...]) -> str:
    for word in words:
        text = text.replace(word, _MASK * len(word))
    return text


def _evaluate_in(alternative: Alternative, text: str) -> tuple[Evidence, ...]:
    """Each condition's evidence. A stated fact is not denied by a negation that belongs to a
    longer word of another condition: in "没考过特种作业操作证" the 没 is about the certificate,
    not about doing 特种作业."""
    evidence = []
    for condition, longer in zip(alternative.conditions, _longer_terms(alternative)):
        found = evaluate_condition(condition, text)
        if found.status == CONTRADICTED and condition.kind == PRESENT and longer \
                and any(word in text for word in longer):
            found = evaluate_condition(condition, _masked(text, longer))
        evidence.append(found)
    return tuple(evidence)


def evaluate_alternative(alternative: Alternative, text: str) -> AlternativeResult:
    evidence = _evaluate_in(alternative, text)
    # An exclusion is a stated fact: only list-covering words after it deny it ("泄爆片、隔爆阀啥都
    # 没有"); 被拆/坏了 describe the equipment it names, and in "倾动式熔炼炉没设排放坑" the 没
    # belongs to the pit.
    for _, polarity, segment in find_term(text, alternative.excepts, after_cues=LIST_NEGATIONS):
        if polarity != "neg":
            return AlternativeResult(alternative, "failed", evidence, excluded_by=segment)
    if evidence and all(e.status == MET for e in evidence):
        status = "met"
    elif any(e.status == CONTRADICTED for e in evidence):
        status = "failed"
    else:
        status = "open"
    return AlternativeResult(alternative, status, evidence)


__all__ = ["MET", "CONTRADICTED", "UNKNOWN", "PRESENT", "MISSING", "NUMBER", "prepare", "Evidence",
           "AlternativeResult", "evaluate_condition", "evaluate_alternative", "find_term"]
