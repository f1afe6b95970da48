"""Batch classification of a hazard ledger (隐患台账): pure logic, no file access.

Find the header row and the description / industry / unit columns in a grid of cell texts, classify
each data row with the existing `Classifier` (identical descriptions once), and tally the results
the way campaign reports do ("排查一般隐患1446个、重大事故隐患2个"). Reading and writing files is
`api/ledger_io.py`'s job.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .classifier import (
    GENERAL,
    INSUFFICIENT,
    MAJOR,
    OUT_OF_SCOPE,
    Classifier,
    Decision,
    InputError,
    Profile,
)
from .normalize import for_matching

EMPTY = "empty"
RESULT_ZH = {MAJOR: "重大事故隐患", GENERAL: "一般事故隐患", INSUFFICIENT: "待补充信息",
             OUT_OF_SCOPE: "非安全隐患描述", EMPTY: "空行"}
ADDED_COLUMNS = ("判定结果", "判定依据", "最相近条款", "待补充信息")
NO_INDUSTRY = "未注明行业"
HEADER_SCAN_ROWS = 30

# Header names, most specific first: the position in the tuple breaks ties between columns.
DESCRIPTION_NAMES = (
    "隐患描述", "隐患内容", "问题描述", "存在问题", "存在的问题", "隐患情况", "检查发现的问题", "发现的问题",
    "发现问题", "隐患问题", "问题隐患", "隐患详情", "隐患具体情况", "隐患事实", "问题内容", "问题情况",
    "检查情况", "事故隐患", "安全隐患", "存在隐患", "隐患名称", "主要问题", "违法行为",
)
DESCRIPTION_GENERIC = ("隐患", "问题")
# Columns about the hazard but not describing it (等级, 部位, 整改 …); 结果/依据 are our own outputs.
DESCRIPTION_EXCLUDED = (
    "整改", "措施", "要求", "期限", "时限", "责任", "编号", "序号", "类别", "类型", "分类", "等级", "级别",
    "时间", "日期", "照片", "图片", "状态", "来源", "部位", "位置", "地点", "数量", "个数", "依据", "结果",
    "判定", "复查", "验收", "资金", "销号", "是否", "待补充", "条款",
)
INDUSTRY_NAMES = ("所属行业", "行业类别", "行业类型", "行业分类", "行业领域", "监管行业", "行业", "企业类型",
                  "单位类型", "企业类别", "单位类别")
INDUSTRY_EXCLUDED = ("主管", "部门", "编号", "代码")
UNIT_NAMES = ("单位名称", "企业名称", "被检查单位", "受检单位", "生产经营单位", "被检查企业", "公司名称")
UNIT_GENERIC = ("企业", "单位", "公司")
UNIT_EXCLUDED = ("检查单位", "责任", "主管", "监管", "地址", "类型", "类别", "代码", "编号", "负责人", "联系")
_UNIT_KEEP = ("被检查", "受检")

# "3.隐患描述", "（三）存在问题", "一、问题描述" → the name; "隐患描述（必填）*" → 隐患描述.
_NUMBERING = re.compile(r"^(?:[(（]?[0-9一二三四五六七八九十]{1,3}[)）]|[0-9一二三四五六七八九十]{1,3}[.、:：)）])")
_TRAILING_NOTE = re.compile(r"(?:[(（][^()（）]*[)）]|[*※:：])+$")
_MAX_HEADER_LEN = 20  # longer cells are titles or data, not column names
_STRONG = 70.0  # exactly a known name (contains-matches score at most 60)


class LedgerError(ValueError):
    """The ledger cannot be processed; the message is shown to the user (Chinese)."""


@dataclass(frozen=True)
class LedgerColumns:
    """Where the ledger's header row is (0-based row in the grid) and which columns matter."""

    header_row: int
    headers: tuple[str, ...]
    description: int
    industry: int | None = None
    unit: int | None = None

    def name(self, column: int | None) -> str | None:
        return None if column is None else self.headers[column]


@dataclass(frozen=True)
class LedgerEntry:
    description: str
    industry: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Verdict:
    """What one description was judged; shared by every row with the same description."""

    label: str
    basis: str
    nearest: str
    questions: tuple[str, ...]
    cited: tuple[tuple[str, str], ...]  # (clause_id, human citation) the verdict rests on
    nearest_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassifiedRow:
    position: int  # 0-based among the data rows
    entry: LedgerEntry
    industry: str  # tally key: canonical industry, or NO_INDUSTRY
    verdict: Verdict

    @property
    def label(self) -> str:
        return self.verdict.label

    @property
    def result(self) -> str:
        return RESULT_ZH[self.verdict.label]

    def added_cells(self) -> tuple[str, str, str, str]:
        """The values of ADDED_COLUMNS, in order."""
        v = self.verdict
        return self.result, v.basis, v.nearest, "\n".join(v.questions)


@dataclass(frozen=True)
class IndustryTally:
    industry: str
    total: int
    counts: dict[str, int]


@dataclass(frozen=True)
class ClauseTally:
    clause_id: str
    citation: str
    total: int
    counts: dict[str, int]


@dataclass(frozen=True)
class LedgerSummary:
    rows: int
    counts: dict[str, int]  # every label of RESULT_ZH, zeros included
    by_industry: list[IndustryTally]
    top_clauses: list[ClauseTally]
    headline: str
    distinct_descriptions: int = 0


# -- header and columns ------------------------------------------------------------------------
def header_key(cell: object) -> str:
    """A header cell as matched: width-folded, spaces removed, numbering and notes stripped."""
    text = for_matching(str(cell or ""))
    text = _NUMBERING.sub("", text)
    return _TRAILING_NOTE.sub("", text)


def _score(key: str, names: Sequence[str], excluded: Sequence[str], generic: Sequence[str] = (),
           keep: Sequence[str] = ()) -> float:
    if not key or len(key) > _MAX_HEADER_LEN:
        return 0.0
    score = 0.0
    for rank, name in enumerate(names):
        if key == name:
            score = 100.0 - rank
            break
        if name in key:
            score = max(score, 60.0 - rank)
    if not score and any(g in key for g in generic):
        score = 20.0
    if score and any(x in key for x in excluded) and not any(k in key for k in keep):
        score -= 50.0
    return max(score, 0.0)


def _mean_length(rows: Sequence[Sequence[object]], column: int) -> float:
    texts = [str(r[column]).strip() for r in rows if column < len(r) and r[column] is not None]
    texts = [t for t in texts if t]
    return sum(map(len, texts)) / len(texts) if texts else 0.0


def _best(keys: Sequence[str], scorer: Callable[[str], float], sample: Sequence[Sequence[object]],
          taken: set[int] = frozenset()) -> tuple[int | None, float]:
    """The best-scoring column; equal scores go to the column with the longer texts, then leftmost."""
    scored = [(scorer(k), _mean_length(sample, i), -i) for i, k in enumerate(keys) if i not in taken]
    scored = [s for s in scored if s[0] > 0]
    if not scored:
        return None, 0.0
    score, _, neg_index = max(scored)
    return -neg_index, score


def find_columns(headers: Sequence[object], sample: Sequence[Sequence[object]] = (), header_row: int = 0
                 ) -> LedgerColumns | None:
    """The description, industry and unit columns of one header row, or None without a
    description column. `sample` (data rows) breaks ties: descriptions are the longer texts."""
    keys = [header_key(h) for h in headers]
    description, _ = _best(keys, lambda k: _score(k, DESCRIPTION_NAMES, DESCRIPTION_EXCLUDED, DESCRIPTION_GENERIC),
                           sample)
    if description is None:
        return None
    industry, _ = _best(keys, lambda k: _score(k, INDUSTRY_NAMES, INDUSTRY_EXCLUDED), sample, {description})
    taken = {description} | ({industry} if industry is not None else set())
    unit, _ = _best(keys, lambda k: _score(k, UNIT_NAMES, UNIT_EXCLUDED, UNIT_GENERIC, _UNIT_KEEP), sample, taken)
    return LedgerColumns(header_row, tuple(str(h or "").strip() for h in headers), description, industry, unit)


def _description_score(headers: Sequence[object]) -> float:
    return max((_score(header_key(h), DESCRIPTION_NAMES, DESCRIPTION_EXCLUDED, DESCRIPTION_GENERIC)
                for h in headers), default=0.0)


def _filled(row: Sequence[object]) -> list[str]:
    return [str(c).strip() for c in row if c is not None and str(c).strip()]


def locate_header(grid: Sequence[Sequence[object]], scan: int = HEADER_SCAN_ROWS) -> LedgerColumns:
    """Find the header row among the first `scan` rows (title rows above it are common).

    A header row has two filled cells or a lone well-named one; the row whose description header scores best wins,
    the earliest on a tie. Raises LedgerError naming the headers seen when there is none.
    """
    best_row, best_score = None, 0.0
    for i, row in enumerate(grid[:scan]):
        filled = len(_filled(row))
        if not filled:
            continue
        score = _description_score(row)
        if filled == 1 and score < _STRONG:
            continue  # a lone cell is a title ("…隐患排查台账") unless it names the column outright
        if score > best_score:
            best_row, best_score = i, score
    if best_row is None:
        raise LedgerError(missing_description_message(grid))
    return find_columns(grid[best_row], grid[best_row + 1:best_row + 51], best_row)


def missing_description_message(grid: Sequence[Sequence[object]]) -> str:
    seen = next((_filled(r) for r in grid[:HEADER_SCAN_ROWS] if len(_filled(r)) >= 2), None) \
        or next((_filled(r) for r in grid[:HEADER_SCAN_ROWS] if _filled(r)), [])
    listed = "、".join(f"“{h[:20]}”" for h in seen[:30]) if seen else "（无）"
    return ("未找到隐患描述列：表头应有“隐患描述”“隐患内容”“问题描述”“存在问题”等列名之一。"
            f"表中看到的列名：{listed}")


def entries(grid: Sequence[Sequence[object]], columns: LedgerColumns) -> list[LedgerEntry]:
    """One entry per row below the header, in order; empty rows included."""

    def cell(row: Sequence[object], column: int | None) -> str:
        if column is None or column >= len(row) or row[column] is None:
            return ""
        return str(row[column]).strip()

    return [LedgerEntry(cell(r, columns.description), cell(r, columns.industry), cell(r, columns.unit))
            for r in grid[columns.header_row + 1:]]


# -- classification ---------------------------------------------------------------------------
class LedgerClassifier:
    """Classifies ledger rows, each distinct (description, industry) once."""

    def __init__(self, classifier: Classifier, default_industry: str = ""):
        self.classifier = classifier
        self.default_industry = default_industry.strip()
        self._cache: dict[tuple[str, str], Verdict] = {}
        self._industries: dict[str, list[str]] = {}

    @property
    def distinct(self) -> int:
        return len(self._cache)

    def classify_rows(self, rows: Sequence[LedgerEntry],
                      progress: Callable[[Iterable], Iterable] | None = None) -> list[ClassifiedRow]:
        indexed: Iterable = list(enumerate(rows))  # a sized list, so a progress bar knows the total
        if progress is not None:
            indexed = progress(indexed)
        return [self.classify_row(i, entry) for i, entry in indexed]

    def classify_row(self, position: int, entry: LedgerEntry) -> ClassifiedRow:
        industry_text = entry.industry or self.default_industry
        canonical = self._canonical(industry_text)
        tally_industry = "、".join(canonical) if canonical else NO_INDUSTRY
        key = for_matching(entry.description)
        if not key:
            basis = "本行无内容。" if not (entry.industry or entry.unit) else "本行未填写隐患描述。"
            return ClassifiedRow(position, entry, tally_industry, Verdict(EMPTY, basis, "", (), ()))
        cache_key = (key, tally_industry)
        verdict = self._cache.get(cache_key)
        if verdict is None:
            verdict = self._cache[cache_key] = self._verdict(entry.description, industry_text)
        return ClassifiedRow(position, entry, tally_industry, verdict)

    def _canonical(self, industry: str) -> list[str]:
        if industry not in self._industries:
            self._industries[industry] = self.classifier.canonical_industries(industry)
        return self._industries[industry]

    def _verdict(self, description: str, industry: str) -> Verdict:
        try:
            decision = self.classifier.classify(description, Profile(industry))
        except InputError as exc:
            return Verdict(INSUFFICIENT, f"无法判定：{exc}", "", ("请将该条隐患描述拆分或精简后重新判定。",), ())
        return verdict_of(self.classifier, decision)


def verdict_of(classifier: Classifier, decision: Decision) -> Verdict:
    """The ledger's view of a decision: the basis cell, the nearest clauses and what to ask."""
    matched, nearest = [], []
    for f in decision.findings:
        matched += [m for m in f.matched if m.criterion.clause_id not in {x.criterion.clause_id for x in matched}]
        nearest += [m for m in f.nearest if m.criterion.clause_id not in {x.criterion.clause_id for x in nearest}]
    matched_ids = {m.criterion.clause_id for m in matched}
    nearest = [m for m in nearest if m.criterion.clause_id not in matched_ids]
    if decision.label == MAJOR:
        lines = []
        for m in matched:
            c = classifier.citation(m.criterion)
            facts = "；".join(f"{e.condition.fact}（“{e.span}”）" for e in m.best.met)
            lines.append(f"{c.citation}：“{c.quote}”" + (f"（已满足：{facts}）" if facts else ""))
        basis = "\n".join(lines)
        cited_matches = matched
    else:
        basis = decision.explanation
        # The clause a non-major row is measured against: the nearest one of each finding.
        cited_matches = []
        for f in decision.findings:
            if f.nearest and f.nearest[0].criterion.clause_id not in {m.criterion.clause_id for m in cited_matches}:
                cited_matches.append(f.nearest[0])
    cited = tuple((m.criterion.clause_id, classifier.citation(m.criterion).citation) for m in cited_matches)
    nearest_text = "；".join(f"{classifier.citation(m.criterion).citation}" for m in nearest[:3])
    return Verdict(decision.label, basis, nearest_text, tuple(decision.questions), cited,
                   tuple(m.criterion.clause_id for m in nearest[:3]))


# -- tallies ---------------------------------------------------------------------------------------
TALLIED = (MAJOR, GENERAL, INSUFFICIENT)


def headline(rows: int, counts: dict[str, int]) -> str:
    """"共 1000 条：重大事故隐患 12 条、一般事故隐患 900 条、待补充信息 88 条" (+ the other rows, if any)."""
    text = f"共 {rows} 条：" + "、".join(f"{RESULT_ZH[label]} {counts.get(label, 0)} 条" for label in TALLIED)
    others = [f"{RESULT_ZH[label]} {counts[label]} 条" for label in (OUT_OF_SCOPE, EMPTY) if counts.get(label)]
    return text + (f"；另有{'、'.join(others)}" if others else "")


def summarize(rows: Sequence[ClassifiedRow], top: int = 10, distinct: int = 0) -> LedgerSummary:
    """Counts overall, by industry (most findings first) and by most-cited clause (top `top`)."""
    counts = {label: 0 for label in RESULT_ZH}
    by_industry: dict[str, Counter] = {}
    by_clause: dict[str, Counter] = {}
    citations: dict[str, str] = {}
    for row in rows:
        counts[row.label] += 1
        if row.label not in TALLIED:
            continue
        by_industry.setdefault(row.industry, Counter())[row.label] += 1
        for clause_id, citation in row.verdict.cited:
            by_clause.setdefault(clause_id, Counter())[row.label] += 1
            citations[clause_id] = citation

    def tallied(counter: Counter) -> dict[str, int]:
        return {label: counter.get(label, 0) for label in TALLIED}

    industries = sorted(by_industry.items(), key=lambda kv: (-kv[1][MAJOR], -sum(kv[1].values()), kv[0]))
    clauses = sorted(by_clause.items(), key=lambda kv: (-sum(kv[1].values()), -kv[1][MAJOR], kv[0]))[:top]
    return LedgerSummary(
        rows=len(rows), counts=counts,
        by_industry=[IndustryTally(name, sum(c.values()), tallied(c)) for name, c in industries],
        top_clauses=[ClauseTally(cid, citations[cid], sum(c.values()), tallied(c)) for cid, c in clauses],
        headline=headline(len(rows), counts), distinct_descriptions=distinct)


@dataclass
class LedgerResult:
    """A classified ledger: its columns, its rows (exactly the input's, in order) and the tallies."""

    columns: LedgerColumns
    rows: list[ClassifiedRow]
    summary: LedgerSummary


def classify_ledger(classifier: Classifier, grid: Sequence[Sequence[object]], default_industry: str = "",
                    progress: Callable[[Iterable], Iterable] | None = None, top: int = 10) -> LedgerResult:
    """Locate the columns of `grid` (rows of cell values), classify every row below the header."""
    columns = locate_header(grid)
    ledger = LedgerClassifier(classifier, default_industry)
    rows = ledger.classify_rows(entries(grid, columns), progress)
    if not any(r.label != EMPTY for r in rows):
        raise LedgerError(f"“{columns.headers[columns.description]}”列下没有任何隐患描述，台账为空。")
    return LedgerResult(columns, rows, summarize(rows, top, ledger.distinct))
