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


def _serve_in_thread(app):
    """uvicorn on a free loopback port in a daemon thread; returns (server, thread, base URL)."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("bench server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def bench_chat(index, tmp: Path) -> dict:
    """POST /v1/chat over loopback HTTP (model loaded, no LLM): every turn of the team dialogues,
    each dialogue in its own session, then the time to the first SSE event of each first turn."""
    import httpx

    from api.app import create_app
    from api.settings import Settings
    from eval.chat import load_dialogues

    settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'bench-chat.sqlite3'}",
                        llm_base_url="")
    server, thread, base = _serve_in_thread(create_app(settings, index_loader=lambda s: index))
    dialogues = load_dialogues()
    turns, first_events = [], []
    try:
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
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return {"chat_turns": len(turns), "chat_p50_ms": _percentile(turns, 50), "chat_p95_ms": _percentile(turns, 95),
            "sse_first_event_p50_ms": _percentile(first_events, 50),
            "sse_first_event_p95_ms": _percentile(first_events, 95)}


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
