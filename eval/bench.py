"""`make bench`: cold ingest, no-op re-ingest, search, classification and chat latency, peak RSS.
Prints a table, writes JSON.

Run as `python -m eval.bench [--corpus DIR] [--out FILE]`. The cold ingest uses a fresh data
dir (no embedding cache) so it measures the real first-run cost.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from api.settings import get_settings


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_ingest_and_search(corpus: Path, backend: str) -> dict:
    from eval.retrieval import load_questions
    from ingest.embeddings import embedding_key, make_embeddings
    from ingest.index import open_index
    from ingest.pipeline import ingest

    key = embedding_key(backend)
    results: dict = {"backend": backend}
    with tempfile.TemporaryDirectory(prefix="hazard-bench-") as tmp:
        data = Path(tmp) / "data"
        started = time.perf_counter()
        report = ingest(corpus, data, key, lambda: make_embeddings(backend))
        results["cold_ingest_s"] = time.perf_counter() - started
        results["clauses"] = sum(d.clauses for d in report.docs if d.status in ("新增", "更新", "未变"))
        results["embedded"] = report.embedded
        started = time.perf_counter()
        noop = ingest(corpus, data, key, lambda: make_embeddings(backend))
        results["noop_reingest_s"] = time.perf_counter() - started
        results["noop_changed"] = noop.changed

        embeddings = make_embeddings(backend)
        index = open_index(data, embeddings)
        questions = [q["question"] for q in load_questions()]
        for q in questions[:5]:  # warm-up: first query pays lazy initialisation
            index.retriever.search(q, k=10)
        latencies = []
        for q in questions:
            t0 = time.perf_counter()
            index.retriever.search(q, k=10)
            latencies.append((time.perf_counter() - t0) * 1000)
        results["search_queries"] = len(latencies)
        results["search_p50_ms"] = _percentile(latencies, 50)
        results["search_p95_ms"] = _percentile(latencies, 95)
        results["search_mean_ms"] = statistics.fmean(latencies)
        results.update(bench_classify(index))
        results.update(bench_chat(index, Path(tmp)))
        results.update(bench_ledger(index))
    results["peak_rss_mb"] = _rss_mb()
    return results


def bench_classify(index) -> dict:
    """Classification latency per situation of the team set, without LLM."""
    from api.services import build_classifier
    from assistant.classifier import Profile
    from eval.classify import load_situations

    classifier = build_classifier(index)
    classifier.adjudicator = None
    situations = load_situations()
    for item in situations[:5]:
        classifier.classify(item["situation"])
    latencies = []
    for item in situations:
        t0 = time.perf_counter()
        classifier.classify(item["situation"], Profile(item.get("industry") or ""))
        latencies.append((time.perf_counter() - t0) * 1000)
    return {"classify_situations": len(latencies), "classify_p50_ms": _percentile(latencies, 50),
            "classify_p95_ms": _percentile(latencies, 95)}


def bench_chat(index, tmp: Path) -> dict:
    """POST /v1/chat over loopback HTTP (model loaded, no LLM): every turn of the team dialogues,
    each dialogue in its own session, then the time to the first SSE event of each first turn."""
    import httpx

    from api.app import create_app
    from api.settings import Settings
    from eval.chat import load_dialogues
    from eval.loopback import serve_in_thread

    settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'bench-chat.sqlite3'}",
                        llm_base_url="", rate_limit=0)  # a benchmark, not a client to throttle
    dialogues = load_dialogues()
    turns, first_events = [], []
    with serve_in_thread(create_app(settings, index_loader=lambda s: index)) as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            for d in dialogues[:3]:  # warm-up
                client.post("/v1/chat", json={"message": d["turns"][0]["user"]})
            for d in dialogues:
                session_id = None
                for turn in d["turns"]:
                    body = {"message": turn["user"], **({"session_id": session_id} if session_id else {})}
                    t0 = time.perf_counter()
                    response = client.post("/v1/chat", json=body)
                    turns.append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
                    session_id = response.json()["session_id"]
            for d in dialogues:
                t0 = time.perf_counter()
                with client.stream("POST", "/v1/chat", json={"message": d["turns"][0]["user"]},
                                   headers={"Accept": "text/event-stream"}) as response:
                    lines = response.iter_lines()
                    for line in lines:
                        if line.startswith("event:"):
                            first_events.append((time.perf_counter() - t0) * 1000)
                            break
                    for _ in lines:  # drain, so the turn completes
                        pass
    return {"chat_turns": len(turns), "chat_p50_ms": _percentile(turns, 50), "chat_p95_ms": _percentile(turns, 95),
            "sse_first_event_p50_ms": _percentile(first_events, 50),
            "sse_first_event_p95_ms": _percentile(first_events, 95)}


_LEDGER_TEMPLATES = (
    "{place}地面有油污，通道堆放{thing}", "{place}的灭火器压力不足，已过期{n}个月", "配电箱门坏了，{place}电线私拉乱接",
    "冷库用液氨制冷，快速冻结装置没有设在单独的作业间内，作业间里有{n}人", "{pool}清淤作业前没有通风检测就让工人下去了",
    "{place}打磨工位除尘系统没有泄爆、隔爆措施", "{place}除尘器积灰严重，{n}个月没清理", "{equip}安全防护罩缺失",
    "{place}的安全出口被{thing}堵住了", "高处作业人员没系安全带，作业高度大约{n}米", "叉车司机无证驾驶，在{place}来回运货",
    "{place}的应急照明灯不亮", "有限空间{pool}出入口没有设置警示标志", "铝水浇铸区地面有积水，离浇铸炉大概{n}米",
    "{place}楼梯扶手松动", "员工在{place}抽烟", "{equip}的急停按钮失灵", "行车吊钩防脱钩装置坏了，{place}正在吊装",
    "危化品仓库里{thing}和氧化剂混放", "{place}临时用电线缆拖地，绝缘层破损", "动火作业没办审批，{place}旁边有易燃物",
    "{place}安全警示标志褪色看不清", "粉尘车间用的非防爆电气设备，{place}积尘大约{n}毫米",
    "劳保用品发放记录不全，{n}名员工没领到防尘口罩", "脚手架连墙件缺失，{place}外架立杆悬空",
    "基坑开挖深度{n}米，没有编制专项施工方案", "井下工作面瓦斯浓度超过1%还在作业", "锅炉压力表超过检定有效期{n}个月",
    "电梯维保记录缺失，{place}电梯运行有异响", "{place}消防通道被车辆占用", "污水处理站{pool}上方作业没有安排监护人员",
    "{equip}皮带轮没有防护罩，员工离得很近", "食堂燃气管道用的橡胶软管，长度大约{n}米", "喷漆房通风机不转，{place}漆味很重",
    "{place}空调遥控器坏了", "{equip}旁边的安全操作规程没上墙",
)
_LEDGER_SLOTS = {
    "place": ("一号车间", "二号车间", "包装间", "仓库", "装卸区", "配电室", "锅炉房", "食堂后厨", "办公楼三楼", "原料库",
              "成品库", "机修间", "东侧厂房", "西侧厂房", "喷涂线"),
    "thing": ("纸箱", "木托盘", "废料", "成品", "油桶", "包装膜", "杂物"),
    "pool": ("污水池", "化粪池", "集水井", "沉淀池", "调节池", "窨井"),
    "equip": ("冲床", "剪板机", "砂轮机", "搅拌机", "输送带", "切割机", "注塑机", "卷扬机"),
}
_LEDGER_INDUSTRIES = ("冶金", "有色", "建材", "机械", "轻工", "纺织", "商贸", "化工", "建筑施工", "")


def _ledger_rows(count: int, distinct: int | None, seed: int = 7) -> list[list[object]]:
    """`count` rows of (序号, 单位名称, 所属行业, 隐患描述) from the templates; with `distinct`, the rows
    are drawn from that many distinct (description, industry) pairs, as real ledgers repeat lines."""
    import random

    rng = random.Random(seed)

    def one() -> tuple[str, str]:
        template = rng.choice(_LEDGER_TEMPLATES)
        fills = {k: rng.choice(v) for k, v in _LEDGER_SLOTS.items()}
        return template.format(n=rng.randint(2, 40), **fills), rng.choice(_LEDGER_INDUSTRIES)

    pool: list[tuple[str, str]] = []
    while len(pool) < (distinct or count):
        pair = one()
        if pair not in pool:
            pool.append(pair)
    picks = pool if distinct is None else [rng.choice(pool) for _ in range(count)]
    return [[i, f"{rng.choice('甲乙丙丁戊己庚辛')}{rng.choice('华安兴盛达鑫源')}{rng.choice(('机械', '食品', '物流', '建材', '纺织', '钢铁'))}有限公司",
             industry, text] for i, (text, industry) in enumerate(picks, 1)]


def bench_ledger(index, rows: int = 1000, distinct: int = 250) -> dict:
    """`hazard ledger` on a generated XLSX (title row + `rows` rows): read, classify, write with the
    summary sheet — once with every row different, once with `distinct` distinct lines. No LLM."""
    import openpyxl

    from api.ledger_io import process_ledger, read_ledger
    from api.services import build_classifier

    classifier = build_classifier(index)
    classifier.adjudicator = None
    results: dict = {"ledger_rows": rows}
    with tempfile.TemporaryDirectory(prefix="hazard-ledger-bench-") as tmp:
        for name, grid in (("unique", _ledger_rows(rows, None)), ("repeated", _ledger_rows(rows, distinct))):
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.append(["隐患排查台账（基准测试）"])
            ws.append(["序号", "单位名称", "所属行业", "隐患描述"])
            for row in grid:
                ws.append(row)
            path = Path(tmp) / f"{name}.xlsx"
            wb.save(path)
            started = time.perf_counter()
            result, _ = process_ledger(classifier, read_ledger(path.read_bytes()), Path(tmp) / f"{name}-out.xlsx")
            seconds = time.perf_counter() - started
            results[f"ledger_{name}_s"] = seconds
            results[f"ledger_{name}_rows_per_s"] = rows / seconds
            results[f"ledger_{name}_distinct"] = result.summary.distinct_descriptions
            print(f"ledger {rows} rows ({name}, {result.summary.distinct_descriptions} distinct): "
                  f"{seconds:.1f} s, {rows / seconds:.1f} rows/s — {result.summary.headline}")
    return results


def format_table(results: dict) -> str:
    rows = [
        ("backend", results["backend"]),
        ("clauses indexed", f"{results['clauses']}"),
        ("cold ingest (s)", f"{results['cold_ingest_s']:.1f}"),
        ("no-op re-ingest (s)", f"{results['noop_reingest_s']:.3f}"),
        ("search p50 (ms)", f"{results['search_p50_ms']:.1f}"),
        ("search p95 (ms)", f"{results['search_p95_ms']:.1f}"),
        ("search queries", f"{results['search_queries']}"),
        ("classify p50 (ms)", f"{results['classify_p50_ms']:.1f}"),
        ("classify p95 (ms)", f"{results['classify_p95_ms']:.1f}"),
        ("classify situations", f"{results['classify_situations']}"),
        ("chat p50 (ms, HTTP)", f"{results['chat_p50_ms']:.1f}"),
        ("chat p95 (ms, HTTP)", f"{results['chat_p95_ms']:.1f}"),
        ("chat turns", f"{results['chat_turns']}"),
        ("SSE first event p50 (ms)", f"{results['sse_first_event_p50_ms']:.1f}"),
        ("SSE first event p95 (ms)", f"{results['sse_first_event_p95_ms']:.1f}"),
        ("ledger 1000 rows, unique (s)", f"{results['ledger_unique_s']:.1f}"),
        ("ledger 1000 rows, repeated (s)", f"{results['ledger_repeated_s']:.1f}"),
        ("peak RSS (MB)", f"{results['peak_rss_mb']:.0f}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--backend", default=None)
    parser.add_argument("--out", type=Path, default=Path("eval/reports/bench.json"))
    args = parser.parse_args()
    settings = get_settings()
    corpus = args.corpus or settings.corpus_dir
    results = {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}}
    results["retrieval"] = bench_ingest_and_search(corpus, args.backend or settings.embeddings)
    print("基准测试 benchmark")
    print(format_table(results["retrieval"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
