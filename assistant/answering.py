"""Answer-key checking: answer exam questions (单选, 多选, 判断) from the corpus, with citations.

Pure: clauses come from the store and a search callable (the `Retriever`); nothing here reads
files or speaks HTTP.

How a question is decided:
- Each candidate statement (the stem with an option filled into its blank, the stem plus the
  option for "下列…的是" questions, or the judge statement itself) is aligned with retrieved
  clause units: an item with its parent's lead-in, a sentence, or a segment between semicolons.
- Texts are compared as *skeletons*: normalised (`normalize.for_matching`), punctuation and 的
  dropped, Chinese numerals with units turned into digits (三十万元 → 30万元, 百分之四十 → 40%),
  and a few interchangeable function words folded (应当/必须 → 应, 不得/禁止/严禁 → 禁, 没有 → 未).
- Support is how much of the statement the unit covers (in order, and as bigrams). Where the
  alignment leaves a gap on both sides, the gap is read: a different number or amount (unless it
  falls inside the clause's range, 5人 within 3人以上10人以下), a negation present on one side only,
  a permission (可以) where the clause obliges or prohibits, or a different duty holder is a
  contradiction; another short word swapped inside well-matched text is a weaker one.
- Judge: true when a unit covers the statement without contradiction, false when a unit covers
  it but contradicts it, null when nothing decides. Choice: options are scored on their best
  unit; single takes the best option when its margin is clear, multiple every option supported
  close to the best. Below the thresholds the answer is null ("语料不能确定"), never a guess.
- Keys are compared with a confident answer; a disagreement gets a note quoting the current
  clause. Questions naming a document the corpus holds only as metadata, or a superseded
  document (the manifest's `replaces`), are answered null or flagged accordingly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any

from .model import Citation, Clause, Document
from .normalize import clean_input, for_matching, strip_markup
from .numerals import parse_chinese_numeral
from .retrieval import SearchFilters, SearchHit
from .store import ClauseStore

SINGLE, MULTIPLE, JUDGE = "single", "multiple", "judge"
TYPES = (SINGLE, MULTIPLE, JUDGE)
TYPE_ZH = {SINGLE: "单选", MULTIPLE: "多选", JUDGE: "判断"}
MAX_STEM_CHARS = 2000
MAX_OPTION_CHARS = 500
MAX_OPTIONS = 8

UNDECIDED_NOTE = "语料不能确定：没有找到能够判定本题的条款"
SearchFn = Callable[[str, int, SearchFilters | None], list[SearchHit]]


class QuestionError(ValueError):
    """A question line that cannot be answered as given; the message is Chinese."""


# -- input -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    id: Any
    type: str
    stem: str
    options: tuple[tuple[str, str], ...] = ()  # (letter, text) in the given order
    key: Any = None  # "A" | ("A", "C") | True | False, or None
    has_key: bool = False

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(letter for letter, _ in self.options)


def parse_question(raw: Any) -> Question:
    """A JSON object from a question line → `Question`; raises `QuestionError` (Chinese)."""
    if not isinstance(raw, dict):
        raise QuestionError("每行应为一个JSON对象")
    qid = raw.get("id")
    kind = raw.get("type")
    if kind not in TYPES:
        raise QuestionError(f"题型 type 应为 single、multiple 或 judge，收到 {kind!r}")
    stem = raw.get("question")
    if not isinstance(stem, str) or not stem.strip():
        raise QuestionError("缺少题干 question")
    if len(stem) > MAX_STEM_CHARS:
        raise QuestionError(f"题干过长（上限{MAX_STEM_CHARS}字）")
    options = raw.get("options")
    pairs: list[tuple[str, str]] = []
    if kind == JUDGE:
        if options:
            raise QuestionError("判断题不应有选项 options")
    else:
        if not isinstance(options, dict) or len(options) < 2:
            raise QuestionError(f"{TYPE_ZH[kind]}题需要至少两个选项 options，如 {{\"A\": \"…\", \"B\": \"…\"}}")
        if len(options) > MAX_OPTIONS:
            raise QuestionError(f"选项过多（上限{MAX_OPTIONS}个）")
        for letter, text in options.items():
            if not isinstance(letter, str) or not re.fullmatch(r"[A-Za-z]", letter.strip()):
                raise QuestionError(f"选项标号应为单个字母，收到 {letter!r}")
            if not isinstance(text, str) or not text.strip():
                raise QuestionError(f"选项 {letter} 内容为空")
            if len(text) > MAX_OPTION_CHARS:
                raise QuestionError(f"选项 {letter} 过长（上限{MAX_OPTION_CHARS}字）")
            pairs.append((letter.strip().upper(), text))
        if len({p[0] for p in pairs}) != len(pairs):
            raise QuestionError("选项标号重复")
    has_key = "answer" in raw and raw["answer"] is not None
    key = _parse_key(kind, raw.get("answer"), {p[0] for p in pairs}) if has_key else None
    return Question(qid, kind, stem, tuple(pairs), key, has_key)


def _parse_key(kind: str, value: Any, letters: set[str]) -> Any:
    if kind == JUDGE:
        if isinstance(value, bool):
            return value
        truthy = {"true": True, "对": True, "正确": True, "√": True, "t": True,
                  "false": False, "错": False, "错误": False, "×": False, "f": False}
        if isinstance(value, str) and value.strip().lower() in truthy:
            return truthy[value.strip().lower()]
        raise QuestionError(f"判断题答案 answer 应为 true 或 false，收到 {value!r}")
    if isinstance(value, str):
        chosen = [c for c in value.upper() if c.isalpha()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        chosen = [v.strip().upper() for v in value]
    else:
        raise QuestionError(f"答案 answer 应为选项字母，收到 {value!r}")
    if not chosen or any(c not in letters for c in chosen):
        raise QuestionError(f"答案 {value!r} 含有不存在的选项")
    if kind == SINGLE:
        if len(chosen) != 1:
            raise QuestionError(f"单选题答案应为一个选项字母，收到 {value!r}")
        return chosen[0]
    return tuple(sorted(set(chosen)))


# -- output ----------------------------------------------------------------------------------
@dataclass
class AnswerResult:
    id: Any
    answer: Any  # "A" | ["A", "C"] | True | False | None
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    agrees_with_key: bool | None = None
    note: str = ""


# -- skeletons ---------------------------------------------------------------------------------
_CN_DIGITS = "零〇一二三四五六七八九十百千两"
_UNITS = r"(?:万元|亿元|万|亿|元|人|年|个|月|日|天|小时|次|倍|米|台|层|区|级|类|项|条|名|周|分钟|min|m|%)"
_CN_NUMBER = re.compile(rf"(百分之)?([{_CN_DIGITS}]+)(?={_UNITS}|$)" )
_PERCENT = re.compile(rf"百分之([{_CN_DIGITS}]+)")
_FOLDS = (("应当", "应"), ("必须", "应"), ("不得", "禁"), ("禁止", "禁"), ("严禁", "禁"), ("没有", "未"),
          ("或者", "或"), ("以及", "和"), ("其它", "其他"), ("的", ""), ("了", ""))
_NON_WORD = re.compile(r"[^\w%.]")
_STRAY_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_ITEM_HEAD = re.compile(r"^\s*(?:第[一二三四五六七八九十百千零〇\d]+条|[（(][一二三四五六七八九十\d]+[)）]|"
                        r"[一二三四五六七八九十]+、|\d+(?:\.\d+)*[.、．]|[a-z][)）])\s*")


def _arabic(numeral: str) -> str | None:
    try:
        return str(parse_chinese_numeral(numeral))
    except ValueError:
        return None


def skeleton(text: str) -> str:
    """The comparison form of a text (see the module docstring); never shown to anyone."""
    text = for_matching(text)
    text = _PERCENT.sub(lambda m: (_arabic(m.group(1)) or m.group(1)) + "%", text)
    text = _CN_NUMBER.sub(lambda m: (_arabic(m.group(2)) or m.group(2)) + ("%" if m.group(1) else ""), text)
    for old, new in _FOLDS:
        text = text.replace(old, new)
    text = _NON_WORD.sub("", text)
    return _STRAY_DOT.sub("", text)


# -- alignment -----------------------------------------------------------------------------------
NUMBER, NEGATION, PERMISSION, ACTOR, WORDING = "number", "negation", "permission", "actor", "wording"
STRONG = (NUMBER, NEGATION, PERMISSION, ACTOR)
_NEG_CHARS = set("未不禁非无")
# Grades that change what a clause is about when one side adds them.
_QUALIFIERS = {"特别", "较大", "重大", "一般", "特别重大"}
_ACTOR = re.compile(r"人员|负责人|单位|部门|机构|企业|政府|工会|经营者|本人|责任人")
_NUM_UNIT = re.compile(rf"(\d+(?:\.\d+)?)({_UNITS})?")
_RANGE = re.compile(rf"(\d+(?:\.\d+)?)({_UNITS})?以上(\d+(?:\.\d+)?)({_UNITS})?以下")
_BOUND = re.compile(rf"(\d+(?:\.\d+)?)({_UNITS})?(以上|以下|及以上|以内)")


@dataclass(frozen=True)
class Alignment:
    support: float  # 0..1, how much of the statement the unit covers
    ordered: float  # in-order coverage alone
    contradictions: tuple[tuple[str, str, str], ...] = ()  # (kind, statement words, clause words)
    recall: float = 0.0  # how much of the unit the statement covers (bigrams)

    @property
    def strong(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(c for c in self.contradictions if c[0] in STRONG)


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _in_range(s_gap: str, u_gap: str) -> bool:
    """The statement's number falls within the clause's range or bound (5人 vs 3人以上10人以下)."""
    values = [(float(v), unit or "") for v, unit in _NUM_UNIT.findall(s_gap)]
    if not values:
        return False
    rng = _RANGE.search(u_gap)
    for value, unit in values:
        if rng:
            low, high = float(rng.group(1)), float(rng.group(3))
            if not (low <= value <= high) or (unit and unit not in (rng.group(2) or "", rng.group(4) or "")):
                return False
            continue
        bound = _BOUND.search(u_gap)
        if not bound:
            return False
        limit = float(bound.group(1))
        if (bound.group(3) == "以下" or bound.group(3) == "以内") and value > limit:
            return False
        if bound.group(3) in ("以上", "及以上") and value < limit:
            return False
    return True


def _classify_gap(s_gap: str, u_gap: str, flanked: bool) -> tuple[str, str, str] | None:
    """What a gap between aligned runs means: a contradiction kind, or None when harmless.
    Negations are weighed over the whole alignment (see `align`), since a reordered 不得 leaves
    one gap on each side."""
    s_digits, u_digits = any(c.isdigit() for c in s_gap), any(c.isdigit() for c in u_gap)
    if s_digits and u_digits and _in_range(s_gap, u_gap):
        return None
    if ((s_digits and u_gap) or (u_digits and s_gap)) and len(s_gap) <= 16 and len(u_gap) <= 16:
        return (NUMBER, s_gap, u_gap)
    # One side skips a number the other states at the same place (达到[1.0%或…达到]1.5%).
    if (u_gap[:1].isdigit() and not s_gap) or (s_gap[:1].isdigit() and not u_gap):
        return (NUMBER, s_gap, u_gap)
    if "可" in s_gap and "可" not in u_gap:
        return (PERMISSION, s_gap, u_gap)
    if (s_gap in _QUALIFIERS and not u_gap) or (u_gap in _QUALIFIERS and not s_gap):
        return (WORDING, s_gap, u_gap)  # 重大事故 vs 特别重大事故
    if s_gap and u_gap and len(s_gap) <= 10 and len(u_gap) <= 10:
        s_actor, u_actor = _ACTOR.search(s_gap), _ACTOR.search(u_gap)
        if s_actor and u_actor and not set(s_gap) >= set(u_gap):
            return (ACTOR, s_gap, u_gap)
        if flanked and 2 <= len(s_gap) <= 6 and not set(s_gap) & set(u_gap):
            return (WORDING, s_gap, u_gap)
    return None


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _number_conflicts(statement: str, unit: str) -> list[tuple[str, str, str]]:
    """Numbers the clause states differently after the same words: the statement's
    "浓度达到1.5%" against the clause's "浓度达到1.0%" (or outside its "3人以上10人以下")."""
    out = []
    for m in _NUMBER.finditer(statement):
        before = re.sub(r"[\d.%]", "", statement[max(0, m.start() - 6): m.start()])
        said = statement[m.start(): m.end() + 4]  # the number with its unit
        for size in (6, 5, 4, 3, 2):
            if len(before) < size:
                continue
            starts = [u.start(1) for u in re.finditer(re.escape(before[-size:]) + r"(\d+(?:\.\d+)?)", unit)]
            if not starts:
                continue
            # The longest context the clause shares decides; any of its numbers there may agree.
            if not any(float(_NUMBER.match(unit, i).group()) == float(m.group()) or _in_range(said, unit[i: i + 24])
                       for i in starts):
                out.append((NUMBER, said, unit[starts[0]: starts[0] + 12]))
            break
    return out


def _negations(text: str) -> int:
    return sum(c in _NEG_CHARS for c in text)


def _ordered(statement: str, unit: str) -> tuple[int, list[tuple[str, str, str]], set[int]]:
    """In-order alignment: matched characters (numbers inside the clause's range count),
    contradictions read from the gaps, and the statement positions matched."""
    blocks = [b for b in SequenceMatcher(None, statement, unit, autojunk=False).get_matching_blocks()
              if b.size >= 2]
    matched = sum(b.size for b in blocks)
    mask = {i for b in blocks for i in range(b.a, b.a + b.size)}
    contradictions: list[tuple[str, str, str]] = []
    negation_balance = 0
    for prev, nxt in pairwise(blocks):
        s_gap = statement[prev.a + prev.size: nxt.a]
        u_gap = unit[prev.b + prev.size: nxt.b]
        if not s_gap and not u_gap:
            continue
        kind = _classify_gap(s_gap, u_gap, prev.size >= 3 and nxt.size >= 3)
        if kind:
            contradictions.append(kind)
        elif s_gap and u_gap and any(c.isdigit() for c in s_gap):
            matched += len(s_gap)  # a number inside the clause's range counts as stated
            mask.update(range(prev.a + prev.size, nxt.a))
        # A negation the other side lacks: swapped words (both gaps short), a dropped 非/不 of
        # the clause, or a 不/未 the statement adds. Longer one-sided gaps are skipped content.
        limit = 12 if (s_gap and u_gap) else (3 if u_gap else 6)
        if len(s_gap) <= limit and len(u_gap) <= limit:
            negation_balance += _negations(s_gap) - _negations(u_gap)
    if negation_balance:
        contradictions.append((NEGATION, "", ""))
    if blocks:
        first, last = blocks[0], blocks[-1]
        head, tail = statement[: first.a], statement[last.a + last.size:]
        # Edges: a number next to the aligned text that the clause states differently, or a
        # permission (可以) the clause does not give.
        u_after = unit[last.b + last.size: last.b + last.size + len(tail) + 6]
        u_before = unit[max(0, first.b - len(head) - 6): first.b]
        for s_gap, u_gap in ((tail, u_after), (head, u_before)):
            if not s_gap:
                continue
            if any(c.isdigit() for c in s_gap) and any(c.isdigit() for c in u_gap) and not _in_range(s_gap, u_gap):
                contradictions.append((NUMBER, s_gap, u_gap))
            elif len(s_gap) <= 8 and "可" in s_gap and "可" not in u_gap:
                contradictions.append((PERMISSION, s_gap, u_gap))
    return matched, contradictions, mask


def align(statement: str, unit: str, lead: str = "") -> Alignment:
    """How well `unit` (a clause skeleton, starting with its lead-in skeleton `lead`) states
    `statement` (a skeleton), and where they differ.

    With a lead-in, the statement is also read against the item's own words first and what is
    left against the lead-in, since statements put the item inside the lead-in's frame
    ("主要负责人…导致发生重大事故的，处…") in another order than the clause does."""
    if not statement or not unit:
        return Alignment(0.0, 0.0)
    matched, contradictions, _ = _ordered(statement, unit)
    own = unit[len(lead):] if lead and unit.startswith(lead) else ""
    if own:
        own_matched, own_contra, mask = _ordered(statement, own)
        rest = "".join(c for i, c in enumerate(statement) if i not in mask)
        lead_matched, lead_contra, _ = _ordered(rest, lead) if rest else (0, [], set())
        lead_contra = [c for c in lead_contra if c[0] in (NEGATION, PERMISSION)]
        if own_matched + lead_matched > matched or \
                (own_matched + lead_matched == matched and len(own_contra) + len(lead_contra) < len(contradictions)):
            matched, contradictions = own_matched + lead_matched, own_contra + lead_contra
    contradictions = contradictions + _number_conflicts(statement, own or unit)
    ordered = min(1.0, matched / len(statement))
    grams = _bigrams(statement)
    bag = len(grams & _bigrams(unit)) / len(grams) if grams else 0.0
    unit_grams = _bigrams(unit)
    recall = len(grams & unit_grams) / len(unit_grams) if unit_grams else 0.0
    return Alignment(0.5 * ordered + 0.5 * bag, ordered, tuple(dict.fromkeys(contradictions)), recall)


# Duty holders: a statement about one of them is not supported by a clause about another.
DUTY_HOLDERS = ("主要负责人", "其他负责人", "项目负责人", "技术负责人", "安全生产管理人员", "安全生产管理机构",
                "从业人员", "特种作业人员", "作业人员", "监护人员", "劳动者", "用人单位", "施工单位", "建设单位",
                "监理单位", "设计单位", "工会", "检验机构", "检测机构", "使用单位", "充装单位", "承包单位",
                "地方各级人民政府", "应急管理部门", "监督管理部门", "受托机构")


def duty_conflict(context: str, unit: str) -> tuple[str, str, str] | None:
    """The context names a duty holder the unit does not, while the unit names another one."""
    named = [h for h in DUTY_HOLDERS if skeleton(h) in context]
    if not named or any(skeleton(h) in unit for h in named):
        return None
    other = [h for h in DUTY_HOLDERS if skeleton(h) in unit and not any(h in n or n in h for n in named)]
    return (ACTOR, named[0], other[0]) if other else None


# -- the question's wording --------------------------------------------------------------------------
_BLANK = re.compile(r"[（(]\s*[)）]|_{2,}|＿{2,}|【\s*】")
_REFERENCE_LEAD = re.compile(r"^(?:根据|依据|按照|依照|按)?\s*(?:现行)?《[^》]{2,60}》(?:（[^）]{0,30}）)?(?:的)?(?:有关)?(?:规定)?(?:第[一二三四五六七八九十百零\d]+条)?[，,：:]?")
_WHICH = re.compile(r"下列|以下|哪些|哪个|哪项|哪一|哪种")
_WHICH_TAIL = re.compile(r"(?:的|中)?(?:有|是|为|包括|正确的是|说法正确的是)?\s*$")
_MAJOR_CLAIM = re.compile(r"[，,]?(?:均|都|则)?(?:应当|应|可以|可)?(?:直接)?(?:判定为|认定为|判定|认定|属于|是|为)"
                          r"[^，。；]{0,12}?(?:重大事故隐患|重大隐患|重大生产安全事故隐患)[。]?$")
_QUOTES = str.maketrans("", "", "“”\"'‘’「」")
_TERM_TAIL = re.compile(r"(?:属于|称为|叫做|是|为)\s*$")
_SLOT = "\u2603"  # where the blank was, while the stem's conclusion is read
_OPTION_HEAD = re.compile(r"^\s*[A-Za-z][.、．:：)）]\s*")


def _asks_which(q: Question, stem: str) -> bool:
    """Options are statements to judge in the stem's context ("下列…的是", or a blank closing the
    stem with sentence-long options), not words to put in a blank."""
    blank = _BLANK.search(stem)
    if _WHICH.search(stem) or not blank:
        return True
    at_end = not re.sub(r"[\s。．.？?：:]", "", stem[blank.end():])
    mean = sum(len(_option_text(t)) for _, t in q.options) / max(1, len(q.options))
    return at_end and (q.type == MULTIPLE or mean >= 8)


def _strip_reference(stem: str) -> str:
    return _REFERENCE_LEAD.sub("", stem.strip(), count=1).strip()


def _option_text(text: str) -> str:
    return _OPTION_HEAD.sub("", clean_input(text)).translate(_QUOTES).strip().rstrip("。；;")


def _major_claim(text: str) -> tuple[str, bool]:
    """The statement without its "…应当判定为重大事故隐患" conclusion, and whether it had one."""
    stripped = _MAJOR_CLAIM.sub("", text.rstrip("。 "))
    return (stripped, True) if stripped != text.rstrip("。 ") else (text, False)


# -- clause units ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    clause_id: str
    text: str  # skeleton of lead-in + the unit's words
    words: str  # the unit's own official words (for notes), item number removed
    criterion: bool  # from a determination standard or under a "…重大事故隐患" lead-in
    lead: str = ""  # skeleton of the lead-in the text starts with


def _units(clause: Clause, document: Document) -> list[Unit]:
    body = _ITEM_HEAD.sub("", strip_markup(clause.text), count=1).strip()
    lead = clause.lead_in or ""
    criterion = document.role == "criteria" or "重大事故隐患" in lead or "重大隐患" in lead
    pieces: list[str] = []
    sentences = [s for s in re.split(r"(?<=[。])|\n", body) if s.strip()]
    for n, sentence in enumerate(sentences):
        if n and _ITEM_HEAD.match(sentence):
            continue  # an item line of an article: the item is a clause (with the lead-in) of its own
        pieces.append(sentence)
        parts = [p for p in re.split(r"(?<=[；;])", sentence) if p.strip()]
        if len(parts) > 1:
            pieces.extend(parts)
    if len(sentences) > 1 and len(body) <= 400:
        pieces.append(body)
    head = lead if lead else (document.lead_in if document.family == "list" else "")
    out, seen = [], set()
    for piece in pieces:
        words = piece.strip()
        if len(words) > 320:
            continue  # a whole part or list: its items are units of their own
        key = skeleton(f"{head}{words}")
        if key and key not in seen:
            seen.add(key)
            out.append(Unit(clause.clause_id, key, words, criterion, skeleton(head) if head else ""))
    return out


# -- documents named in the question --------------------------------------------------------------
_GB_NUMBER = re.compile(r"\b((?:GB|AQ|GB/T)\s*\d+(?:\.\d+)?)\s*[-—–]\s*(\d{4})", re.IGNORECASE)


@dataclass(frozen=True)
class References:
    documents: tuple[str, ...] = ()  # slugs with text in the corpus
    metadata_only: tuple[str, ...] = ()  # slugs the corpus knows only by name
    superseded: tuple[tuple[str, str], ...] = ()  # (old title, slug of the document replacing it)


def _title_core(title: str) -> str:
    return re.sub(r"^中华人民共和国", "", title)


def _version_free(title: str) -> str:
    return re.sub(r"[（(][^）)]*[)）]", "", title).strip()


def find_references(stem: str, store: ClauseStore) -> References:
    """Documents the stem names by title, short title or standard number, and superseded titles
    (a manifest `replaces` entry, matched with its year or edition)."""
    quoted = re.findall(r"《([^》]{2,80})》", stem)
    numbers = {re.sub(r"\s+", "", f"{a}-{b}").upper() for a, b in _GB_NUMBER.findall(stem)}
    superseded = []
    for doc in sorted(store.documents.values(), key=lambda d: d.slug):
        for old in doc.replaces:
            year = re.search(r"\d{4}", old)
            for q in quoted:
                if q == old or (_version_free(q) == _version_free(old) and year and year.group() in q):
                    superseded.append((q, doc.slug))
    old_titles = {q for q, _ in superseded}
    current = [q for q in quoted if q not in old_titles]
    docs, meta = [], []
    for doc in sorted(store.documents.values(), key=lambda d: d.slug):
        names = {doc.title, _title_core(doc.title), doc.short_title} - {""}
        number = re.sub(r"\s+", "", doc.doc_number).upper().replace("—", "-")
        hit = any(q in names or _title_core(q) in names for q in current) or bool(number and number in numbers)
        if not hit and not quoted:
            hit = any(len(n) >= 5 and n in stem for n in names)
        if hit:
            (docs if store.clauses_of(doc.slug) else meta).append(doc.slug)
    return References(tuple(docs), tuple(meta), tuple(superseded))


# -- scoring ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    unit: Unit
    alignment: Alignment
    score: float


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds, calibrated on the dev split of eval/data/answer.jsonl (see eval/answer.py).

    - a judge statement is true when its best uncontradicted unit covers ≥ `judge_true`, false
      when its best unit covers ≥ `judge_false` and contradicts it (a number, negation,
      permission or duty holder; a swapped word counts only above `judge_wording`);
    - a choice option is supported at ≥ `option_min`; single needs a margin ≥ `single_margin`
      over the runner-up; multiple keeps options within `multiple_band` of the best.
    """

    judge_true: float = 0.74
    judge_false: float = 0.55
    judge_wording: float = 0.84
    option_min: float = 0.62
    single_margin: float = 0.04
    multiple_band: float = 0.15
    relevant: float = 0.5


DEFAULT_THRESHOLDS = Thresholds()


class AnswerChecker:
    """Answers questions from the clause store through `search` (the Retriever's `search`)."""

    def __init__(self, store: ClauseStore, search: SearchFn, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 depth: int = 8):
        self.store = store
        self.search = search
        self.thresholds = thresholds
        self.depth = depth
        self._unit_cache: dict[str, list[Unit]] = {}

    # -- public -------------------------------------------------------------------------------------
    def answer(self, question: Question) -> AnswerResult:
        refs = find_references(question.stem, self.store)
        if refs.metadata_only and not refs.documents:
            titles = "、".join(f"《{self.store.documents[s].title}》" for s in refs.metadata_only)
            return AnswerResult(question.id, None, 0.0, [], None,
                                f"语料不能确定：语料中只有{titles}的目录信息，没有经核实的正文，无法据此作答")
        if question.type == JUDGE:
            result = self._judge(question, refs)
        else:
            result = self._choice(question, refs)
        superseded_note = self._superseded_note(refs)
        if superseded_note:
            result.note = "；".join(n for n in (superseded_note, result.note) if n)
        self._compare_key(question, result)
        return result

    # -- retrieval ------------------------------------------------------------------------------------
    def _candidates(self, queries: Sequence[str], refs: References) -> list[Unit]:
        filters = SearchFilters(documents=refs.documents) if refs.documents else None
        ids: list[str] = []
        for query in queries:
            hits = self.search(query, self.depth, filters) if query.strip() else []
            if filters is not None and not hits:
                hits = self.search(query, self.depth, None)
            for h in hits:
                ids.append(h.clause.clause_id)
                ids.extend(c.clause_id for c in self.store.children(h.clause.clause_id))
        units: list[Unit] = []
        for cid in dict.fromkeys(ids):
            if cid not in self._unit_cache:
                clause = self.store.clauses[cid]
                self._unit_cache[cid] = _units(clause, self.store.document_of(clause))
            units.extend(self._unit_cache[cid])
        return units

    def _best(self, statement: str, units: Sequence[Unit], criterion_claim: bool = False) -> list[Evidence]:
        """Units ranked by how well they state `statement` (a skeleton)."""
        out = []
        for unit in units:
            if criterion_claim and not unit.criterion:
                continue
            al = align(statement, unit.text, unit.lead)
            out.append(Evidence(unit, al, al.support))
        out.sort(key=lambda e: (-round(e.score, 6), len(e.alignment.strong), -e.unit.clause_id.count(":"),
                                e.unit.clause_id))
        return out

    # -- judge --------------------------------------------------------------------------------------
    def _judge(self, q: Question, refs: References) -> AnswerResult:
        th = self.thresholds
        text = _strip_reference(clean_input(q.stem)).translate(_QUOTES)
        if refs.superseded and re.search(r"现行|有效|依据|适用|仍", text):
            return self._superseded_claim(q, refs)
        body, claims_major = _major_claim(text)
        statement = skeleton(body)
        units = self._candidates([text], refs)
        ranked = self._best(statement, units, claims_major)
        if not ranked or ranked[0].score < th.relevant:
            return AnswerResult(q.id, None, 0.0, [], None, UNDECIDED_NOTE)
        clean = [e for e in ranked if not e.alignment.contradictions]
        # A contradicted unit counts by how much of the statement it covers, or of itself the
        # statement covers (a false statement adds words of its own: 可以根据经营状况决定是否…).
        against = sorted((Evidence(e.unit, e.alignment, max(e.score, 0.9 * e.alignment.recall)) for e in ranked
                          if e.alignment.strong or (e.alignment.contradictions and e.alignment.ordered >= th.judge_wording)),
                         key=lambda e: -e.score)
        best_clean = clean[0] if clean else None
        best_against = against[0] if against else None
        if best_clean and best_clean.score >= th.judge_true and \
                (best_against is None or best_clean.score >= best_against.score - 0.02):
            return AnswerResult(q.id, True, _confidence(best_clean.score, th.judge_true),
                                [self._cite(best_clean.unit)], None, "")
        if best_against and best_against.score >= th.judge_false:
            kind = best_against.alignment.contradictions[0][0]
            note = f"与条文不一致（{_KIND_ZH[kind]}）：条文为“{best_against.unit.words.rstrip('；;。')}”"
            return AnswerResult(q.id, False, _confidence(best_against.score, th.judge_false),
                                [self._cite(best_against.unit)], None, note)
        return AnswerResult(q.id, None, round(ranked[0].score * 0.5, 2), [], None, UNDECIDED_NOTE)

    # -- choice ---------------------------------------------------------------------------------------
    def _statements(self, q: Question) -> tuple[dict[str, str], dict[str, str], str | None, bool]:
        """Per option: the stem with the option in its blank, and the option read alone (with the
        words around the blank); for "下列…" questions the stem's context instead of a filled
        statement. Also whether the stem asks which option is a major hazard."""
        stem = _strip_reference(clean_input(q.stem))
        blank = _BLANK.search(stem)
        filled, alone = {}, {}
        if _asks_which(q, stem):
            context = _BLANK.sub("", stem)
            context = re.sub(r"(?:有)?下列(?:情形|行为|事故|单位|人员|内容|说法|选项|设备|情况)?(?:之一)?(?:中)?(?:的)?[，,]?",
                             "", context)
            context = _WHICH_TAIL.sub("", context.rstrip("。：:？? "))
            context, claims = _major_claim(context)
            for letter, raw in q.options:
                alone[letter] = skeleton(_option_text(raw))
            return filled, alone, skeleton(context), claims
        # The conclusion is stripped only when it is the stem's own, not the blank's.
        marked, claims = _major_claim(_BLANK.sub(_SLOT, stem, count=1))
        if _SLOT not in marked:
            marked, claims = _BLANK.sub(_SLOT, stem, count=1), False
        before, after = _BLANK.sub("", stem[: blank.start()]), _BLANK.sub("", stem[blank.end():])
        for letter, raw in q.options:
            option = _option_text(raw)
            filled[letter] = skeleton(_BLANK.sub("", marked.replace(_SLOT, option)))
            # "…的事故属于（ ）": texts define the term first ("重大事故，是指…"), so the option is
            # also read at the front.
            term = _TERM_TAIL.search(before) if not after.strip(" 。.") else None
            if term:
                filled[letter] += "\n" + skeleton(f"{option}是指{before[: term.start()]}")
            # Short options ("9", "一次") are read with the words around the blank (超过9人).
            alone[letter] = skeleton(f"{before[-3:]}{option}{after[:3]}")
        return filled, alone, None, claims

    def _option_evidence(self, letter: str, filled: dict[str, str], alone: dict[str, str], context: str | None,
                         units: Sequence[Unit], claims_major: bool) -> Evidence | None:
        best = None
        for unit in units:
            if claims_major and not unit.criterion:
                continue
            own = align(alone[letter], unit.text, unit.lead)
            if context is None:
                full = max((align(f, unit.text, unit.lead) for f in filled[letter].split("\n")),
                           key=lambda a: (a.support, -len(a.contradictions)))
                score = full.support * (0.5 + 0.5 * own.support)
                contradictions = full.contradictions + own.contradictions
                recall = full.recall
            else:
                ctx = align(context, unit.text) if context else Alignment(1.0, 1.0)
                score = own.support * (0.6 + 0.4 * ctx.support)
                conflict = duty_conflict(context, unit.text)
                contradictions = own.contradictions + ((conflict,) if conflict else ())
                recall = own.recall
            if any(c[0] in STRONG for c in contradictions):
                score *= 0.6
            elif contradictions:
                score *= 0.85
            # Of two units that state the option equally, the one about little else is its source.
            score *= 0.9 + 0.1 * recall
            # Ties go to the more specific clause (an item rather than its article).
            if best is None or (score, unit.clause_id.count(":")) > (best.score, best.unit.clause_id.count(":")):
                best = Evidence(unit, Alignment(score, score, contradictions, recall), score)
        return best

    def _choice(self, q: Question, refs: References) -> AnswerResult:
        th = self.thresholds
        filled, alone, context, claims_major = self._statements(q)
        stem_query = _BLANK.sub("", clean_input(q.stem))
        if context is None:
            queries = [stem_query] + [_BLANK.sub(_option_text(t), clean_input(q.stem), count=1) for _, t in q.options]
        else:
            queries = [stem_query] + [f"{stem_query} {_option_text(t)}" for _, t in q.options]
        units = self._candidates(queries, refs)
        scored = {x: self._option_evidence(x, filled, alone, context, units, claims_major) for x in q.letters}
        ranking = sorted(q.letters, key=lambda x: -(scored[x].score if scored[x] else 0.0))
        top = scored[ranking[0]]
        if top is None or top.score < th.option_min:
            return AnswerResult(q.id, None, round(top.score * 0.5, 2) if top else 0.0, [], None, UNDECIDED_NOTE)
        if q.type == SINGLE:
            second = scored[ranking[1]].score if len(ranking) > 1 and scored[ranking[1]] else 0.0
            margin = top.score - second
            if margin < th.single_margin:
                return AnswerResult(q.id, None, round(0.5 * margin / th.single_margin * top.score, 2), [], None,
                                    f"语料不能确定：选项{ranking[0]}与{ranking[1]}的依据同样充分")
            confidence = min(0.99, 0.5 + margin + 0.3 * (top.score - th.option_min))
            return AnswerResult(q.id, ranking[0], round(confidence, 2), [self._cite(top.unit)], None, "")
        floor = max(th.option_min, top.score - th.multiple_band)
        chosen = [x for x in ranking if scored[x] and scored[x].score >= floor]
        rejected = [scored[x].score for x in ranking if x not in chosen and scored[x]]
        gap = min(scored[x].score for x in chosen) - (max(rejected) if rejected else 0.0)
        confidence = min(0.99, 0.5 + gap + 0.3 * (top.score - th.option_min))
        cites = list(dict.fromkeys(scored[x].unit.clause_id for x in sorted(chosen)))
        return AnswerResult(q.id, sorted(chosen), round(confidence, 2), [self.store.citation(c) for c in cites], None, "")

    # -- versions and keys -------------------------------------------------------------------------------
    def _superseded_claim(self, q: Question, refs: References) -> AnswerResult:
        old, slug = refs.superseded[0]
        cites = self._abolishing_clauses(old, slug)
        return AnswerResult(q.id, False, 0.9, [self.store.citation(c) for c in cites[:1]], None, "")

    def _abolishing_clauses(self, old: str, slug: str) -> list[str]:
        core = re.sub(r"[（(].*?[)）]", "", old).strip()
        return [c.clause_id for c in self.store.clauses_of(slug) if core and core in c.text]

    def _superseded_note(self, refs: References) -> str:
        notes = []
        for old, slug in refs.superseded:
            doc = self.store.documents[slug]
            number = f"（{doc.doc_number}）" if doc.doc_number else ""
            notes.append(f"《{old}》已被《{doc.title}》{number}替代，应以现行文件为准")
        return "；".join(notes)

    def _compare_key(self, q: Question, result: AnswerResult) -> None:
        if not q.has_key or result.answer is None:
            return
        given = q.key if q.type != MULTIPLE else sorted(q.key)
        agrees = given == result.answer
        result.agrees_with_key = agrees
        if agrees:
            return
        shown = {True: "正确", False: "错误"}.get(result.answer, result.answer) if q.type == JUDGE else \
            ("".join(result.answer) if isinstance(result.answer, list) else result.answer)
        key_shown = {True: "正确", False: "错误"}.get(q.key, q.key) if q.type == JUDGE else "".join(given)
        basis = ""
        if result.citations:
            cit = result.citations[0]
            doc = self.store.documents[self.store.clause(cit.clause_id).doc_slug]
            when = f"，{doc.effective}起施行" if doc.effective else ""
            basis = f"；依据现行{cit.citation}{when}"
            if doc.replaces:
                basis += f"（替代了{'、'.join('《' + r + '》' for r in doc.replaces)}）"
        warning = f"所给答案与现行条文不一致：所给答案为{key_shown}，依据语料应为{shown}{basis}"
        replaced = result.citations and self.store.document_of(self.store.clause(result.citations[0].clause_id)).replaces
        if replaced:
            warning += "。所给答案可能依据已被替代的旧文件"
        elif _about_numbers(q):
            warning += "。所给答案可能依据修订前的旧文本（如修订前的罚款数额、比例或期限）"
        result.note = "；".join(n for n in (warning, result.note) if n)

    def _cite(self, unit: Unit) -> Citation:
        return self.store.citation(unit.clause_id)


def _about_numbers(q: Question) -> bool:
    """The key turns on a number, amount or deadline (where outdated texts usually differ)."""
    texts = [q.stem] if q.type == JUDGE else [t for letter, t in q.options if letter in (q.key if isinstance(q.key, tuple) else (q.key,))]
    return any(ch.isdigit() for t in texts for ch in skeleton(t))


_KIND_ZH = {NUMBER: "数值不同", NEGATION: "肯定与否定相反", PERMISSION: "条文为义务或禁止",
            ACTOR: "责任主体不同", WORDING: "措辞不同"}


def _confidence(score: float, threshold: float) -> float:
    return round(min(0.99, 0.6 + (score - threshold) * 1.5), 2)
