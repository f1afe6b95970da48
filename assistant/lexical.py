"""Lexical retrieval: jieba tokens with a domain dictionary generated from the corpus, BM25."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from .normalize import for_search

# Terms every safety inspector uses; the generated dictionary adds the corpus's own terms.
CORE_TERMS = (
    "重大事故隐患", "一般事故隐患", "事故隐患", "有限空间", "受限空间", "液氨", "涉氨制冷", "氨直接蒸发",
    "粉尘涉爆", "粉尘爆炸", "可燃性粉尘", "除尘系统", "重大危险源", "两重点一重大", "特种作业",
    "特种作业人员", "特种设备", "安全生产许可证", "主要负责人", "安全生产管理人员", "监护人员",
    "先通风、再检测、后作业", "应急救援预案", "安全警示标志", "熔融金属", "煤气", "一氧化碳",
    "硫化氢", "可燃气体", "防爆电气", "紧急切断", "安全仪表系统", "联锁", "监测报警装置",
    "深井铸造", "危险化学品", "烟花爆竹", "民用爆炸物品", "金属冶炼", "瓦斯", "甲烷", "探放水",
    "冲击地压", "采空区", "尾矿库", "排土场", "边坡", "安全出口", "脚手架", "连墙件", "深基坑",
    "高支模", "塔式起重机", "施工升降机", "起重机械", "压力容器", "压力管道", "电梯", "锅炉",
    "气瓶", "叉车", "场（厂）内专用机动车辆", "燃气", "液化石油气", "调压装置", "安全阀", "爆破片",
    "三同时", "安全评价", "全员安全生产责任制", "双重预防机制", "停产停业", "罚款",
)

STOPWORDS = frozenset(
    "的 了 和 与 及 或 或者 等 是 在 有 为 对 由 其 应 应当 下列 之一 情形 以及 并 且 未 不 没有 "
    "按照 按 规定 要求 进行 设置 有关 相应 本 该 这 那 吗 呢 啊 吧 么 怎么 什么 如何 是否 多少 哪些 "
    "还是 一下 一个 我们 他们 你们 我 你 他 她 它 算 算不算 要 会 能 可以 需要 请问".split()
)
_PUNCT = re.compile(r"^[\W_]+$")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_FRAGMENT_SPLIT = re.compile(
    r"[，。；：、！？（）()《》“”\"'\s\[\]【】〔〕<>/=·…—\-]|"
    r"(?:或者|以及|并且|的|和|与|及|未|在|对|等|有|是|为|由|应当|按照|不|下列|之一)"
)


def domain_terms(texts: list[str], min_count: int = 3, max_len: int = 10) -> list[str]:
    """Terms for the jieba dictionary: CORE_TERMS plus fragments the corpus repeats.

    A fragment is a run between punctuation and function words (e.g. 固定式一氧化碳浓度监测报警装置
    is split off by 未设置 … 的); those seen `min_count` times are domain vocabulary.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        seen = set()
        for fragment in _FRAGMENT_SPLIT.split(for_search(text)):
            fragment = fragment.strip()
            if 2 <= len(fragment) <= max_len and re.fullmatch(r"[\u4e00-\u9fff]+", fragment):
                seen.add(fragment)
        counts.update(seen)
    generated = sorted(t for t, n in counts.items() if n >= min_count)
    return sorted(set(CORE_TERMS) | set(generated))


class Tokenizer:
    """A private jieba tokenizer with the domain dictionary (no global jieba state)."""

    def __init__(self, terms: list[str] | tuple[str, ...] = CORE_TERMS):
        import jieba

        jieba.setLogLevel(60)
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for term in terms:
            self._jieba.add_word(for_search(term), freq=20000)

    def tokens(self, text: str) -> list[str]:
        """Search-mode words (long words and their sub-words) plus CJK character bigrams.

        Bigrams keep colloquial wording, typos and words jieba splits differently matchable.
        """
        text = for_search(text)
        out = []
        for tok in self._jieba.lcut_for_search(text, HMM=True):
            tok = tok.strip()
            if not tok or tok in STOPWORDS or _PUNCT.match(tok):
                continue
            out.append(tok)
        for run in _CJK_RUN.findall(text):
            out.extend("\u0001" + run[i:i + 2] for i in range(len(run) - 1))
        return out


@dataclass
class BM25Index:
    """Okapi BM25 over pre-tokenized clauses; postings keep scoring at a few ms per query."""

    ids: list[str]
    postings: dict[str, list[tuple[int, int]]]
    idf: dict[str, float]
    norms: list[float]  # k1 * (1 - b + b * len/avgdl) per document
    k1: float = 1.5

    @classmethod
    def build(cls, ids: list[str], token_lists: list[list[str]], k1: float = 1.5, b: float = 0.75) -> "BM25Index":
        n = len(ids)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = []
        for doc_index, tokens in enumerate(token_lists):
            lengths.append(len(tokens))
            for term, tf in Counter(tokens).items():
                postings[term].append((doc_index, tf))
        avgdl = (sum(lengths) / n) if n else 1.0
        idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        norms = [k1 * (1 - b + b * (length / avgdl if avgdl else 0)) for length in lengths]
        return cls(ids, dict(postings), idf, norms, k1)

    def scores(self, query_tokens: list[str], allowed: set[int] | None = None) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for term, qtf in Counter(query_tokens).items():
            idf = self.idf.get(term)
            if idf is None:
                continue
            for doc_index, tf in self.postings[term]:
                if allowed is not None and doc_index not in allowed:
                    continue
                scores[doc_index] += idf * tf * (self.k1 + 1) / (tf + self.norms[doc_index]) * (1 + 0.1 * (qtf - 1))
        return scores

    def top(self, query_tokens: list[str], k: int, allowed: set[int] | None = None) -> list[tuple[str, float]]:
        scored = self.scores(query_tokens, allowed)
        best = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [(self.ids[i], s) for i, s in best]
