"""Bounded load test: real `hazard serve` process(es) on loopback, a fixed number of requests.

For each endpoint (`/v1/classify`, `/v1/chat`) and each concurrency level (1, 8, 32) it fires
`--requests` requests (after a short warm-up), but stops sending once `--max-seconds` have passed
for that level, so a run always ends. Reports throughput (req/s), p50/p99 latency and the error
count, prints a table and writes JSON (default eval/reports/load.json). The server is started as a
subprocess in its own process group and always stopped, whatever happens.

Run as `python -m eval.load [--requests 600] [--workers 2] [--data-dir data]`. The conversation
database is a temporary SQLite file, so a run leaves nothing in the data dir's database.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from eval.loopback import free_port

LEVELS = (1, 8, 32)
ENDPOINTS = ("classify", "chat")
SHORT_REQUESTS = 40  # `make test`
LONG_REQUESTS = 600  # `make bench`
WARM_UP = 8
REQUEST_TIMEOUT = 60.0
READY_TIMEOUT = 180.0  # each worker loads the index and the embedding model before /readyz says ready

# Situations as people on site describe them: spoken, imprecise, some major, some not, some
# unclear. The slots make almost every request text distinct, as in real traffic, so caches keyed
# by text do not flatter the figures.
SITUATIONS = (
    "{place}里打磨铝件的粉尘挺多的，除尘器好像{n}个月没清了",
    "冷库用的液氨，{place}里有{n}个人，就在制冷机房隔壁",
    "{pool}清淤，工人直接下去了，没测气体也没人在上面看着",
    "{place}门口堆满了{thing}，消防通道走不过去",
    "锅炉房的压力表过期{n}个月了还在用",
    "叉车司机没有证，天天在{place}开",
    "脚手架有{n}根连墙件没了，外架有点歪",
    "基坑挖了{n}米深，没看到专项施工方案",
    "煤矿井下工作面瓦斯超限了还在干活，{place}那边",
    "{place}配电箱门坏了，电线私拉乱接",
    "喷漆房的风机不转了，{place}漆味很重",
    "铝水浇铸的地方地上有积水，离炉子大概{n}米",
    "行车吊钩的防脱钩装置坏了，{place}还在吊东西",
    "危化品仓库里氧化剂和{thing}混在一起放",
    "高处作业的人没系安全带，大概{n}米高",
    "员工在{place}里抽烟",
    "食堂燃气管子用的是橡胶软管，大概{n}米长",
    "动火作业没审批，{place}旁边就有油桶",
    "{pool}有限空间作业没有审批，也没配呼吸器",
    "粉尘车间用的不是防爆电器，{place}积灰有{n}毫米",
    "{place}的电梯维保记录找不到，运行时有异响",
    "{equip}的光电保护拆掉了",
    "储罐区可燃气体报警器不响，{place}附近",
    "烟花爆竹工房里的人比核定的多了{n}个",
    "熔炼炉冷却水没有监测报警，{place}在生产",
    "{place}楼梯扶手有点松",
    "{place}的安全警示标志褪色看不清了",
    "劳保用品没发全，有{n}个人没防尘口罩",
    "{equip}皮带轮没有防护罩，员工离得很近",
    "加油站卸油的时候没有静电接地，{place}那边",
    "{equip}的操作工特种作业证过期{n}个月了",
    "二楼车间做木制品打磨，楼是砖混的，{place}",
)
QUESTIONS = (
    "{industry}企业的主要负责人有哪些安全生产职责？",
    "{industry}企业发现重大事故隐患要向谁报告？",
    "{pool}这种有限空间作业要注意什么？",
    "{industry}企业安全生产教育培训有什么要求？",
    "开{equip}的人需要持证上岗吗？",
    "{industry}企业重大事故隐患排查治理有哪些规定？",
    "{industry}企业安全生产责任制应该包括哪些内容？",
    "{place}粉尘涉爆，哪些情形算重大隐患？",
    "事故隐患分为哪几类？{industry}企业怎么分级？",
    "{thing}和危险化学品放在一个仓库有什么要求？",
    "{place}外包施工，安全责任谁来负？",
    "{industry}企业安全生产费用怎么提取和使用？",
)
SLOTS = {
    "place": ("一号车间", "二号车间", "包装间", "仓库", "装卸区", "配电室", "锅炉房", "食堂后厨", "原料库", "成品库",
              "机修间", "东侧厂房", "西侧厂房", "喷涂线", "三号厂房", "北门", "危废间", "空压站"),
    "thing": ("纸箱", "木托盘", "废料", "成品", "油桶", "包装膜", "杂物", "棉纱"),
    "pool": ("污水池", "化粪池", "集水井", "沉淀池", "调节池", "窨井", "储罐"),
    "equip": ("冲床", "剪板机", "砂轮机", "搅拌机", "输送带", "切割机", "注塑机", "卷扬机", "叉车", "行车"),
    "industry": ("冶金", "有色", "建材", "机械", "轻工", "纺织", "商贸", "化工", "建筑施工", "烟花爆竹"),
    "n": tuple(str(n) for n in (2, 3, 5, 6, 8, 10, 12, 15, 20, 30)),
}
# How a message starts: reported speech, time, a request for help.
SITUATION_LEADS = ("", "刚才巡查发现，", "班组长说", "今天下午检查时看到", "昨天夜班", "早上交接班时发现",
                   "安全员反映，", "我们厂", "隔壁工段", "上周开始", "外包队伍那边", "听工人讲，")
QUESTION_LEADS = ("", "请问", "想问一下，", "领导让我查一下：", "我们是小厂，", "新来的安全员问：",
                  "培训时有人问，", "麻烦告诉我，", "检查前想确认：", "老板问我，", "顺便问下，", "帮忙看看：")


@dataclass
class LevelResult:
    endpoint: str
    concurrency: int
    planned: int
    sent: int
    errors: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    error_samples: list[str]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n·p/100), at least the first
    return ordered[int(min(rank, len(ordered))) - 1]


def texts(templates: tuple[str, ...], leads: tuple[str, ...], seed: int) -> Iterator[str]:
    """Endless texts from `templates` with their slots filled and a lead chosen at random (seeded):
    each template in turn, a combination not used before while any are left."""
    rng = random.Random(seed)
    seen: set[str] = set()
    for template in itertools.cycle(templates):
        text = ""
        for _ in range(50):
            text = rng.choice(leads) + template.format(**{k: rng.choice(v) for k, v in SLOTS.items()})
            if text not in seen:
                break
        seen.add(text)
        yield text


def bodies(endpoint: str, seed: int = 0) -> Iterator[dict]:
    """Request bodies for one endpoint; chat alternates legal questions with site situations."""
    if endpoint == "classify":
        return ({"situation": s} for s in texts(SITUATIONS, SITUATION_LEADS, seed))
    questions, situations = texts(QUESTIONS, QUESTION_LEADS, seed), texts(SITUATIONS, SITUATION_LEADS, seed + 1)
    return ({"message": next(questions) if i % 2 == 0 else next(situations)} for i in itertools.count())


@dataclass
class LiveServer:
    url: str
    headers: dict[str, str]  # an admin key when the build has API keys (ignored in single-user mode)
    pid: int  # the server's process and process group


def _admin_key(db_url: str) -> str:
    """A key in the run's own database, so the load test also runs where HAZARD_AUTH=on."""
    from api.db import ChatDatabase
    from api.keys import KeyStore

    db = ChatDatabase(db_url)
    try:
        db.create_all()
        return KeyStore(db.engine).create("load-test", "admin")[0]
    finally:
        db.dispose()


@contextmanager
def running_server(data_dir: Path, workers: int = 1, extra_env: dict[str, str] | None = None,
                   host: str = "127.0.0.1") -> Iterator[LiveServer]:
    """`hazard serve --host HOST` on a free port, reached over loopback, until it is ready; always
    stops the whole process group (the workers too) on the way out."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hazard-load-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'load.sqlite3'}"
        key = _admin_key(db_url)
        env = {**os.environ, "HAZARD_DATA_DIR": str(data_dir), "HAZARD_DATABASE_URL": db_url,
               # The load generator is one client: the per-client rate limit would answer 429.
               "HAZARD_RATE_LIMIT": "0", "HAZARD_LLM_BASE_URL": "", **(extra_env or {})}
        command = [sys.executable, "-c", "from api.cli import main; main(prog_name='hazard')",
                   "serve", "--host", host, "--port", str(port)]
        if workers > 1:
            command += ["--workers", str(workers)]
        log_path = Path(tmp) / "server.log"
        with open(log_path, "w", encoding="utf-8") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(process, url, log_path, workers)
            yield LiveServer(url, {"Authorization": f"Bearer {key}"}, process.pid)
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen, url: str, log_path: Path, workers: int) -> None:
    """Until /readyz answers 200 and every worker has logged its startup (a worker still loading
    the index would compete with the measurement for the CPU)."""
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(trust_env=False, timeout=5) as http:
        while True:
            log = log_path.read_text(encoding="utf-8", errors="replace")
            if process.poll() is not None:
                raise RuntimeError(f"server exited ({process.returncode}):\n{log[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready within {READY_TIMEOUT:.0f} s:\n{log[-2000:]}")
            try:
                ready = http.get(f"{url}/readyz").status_code == 200
            except httpx.TransportError:
                ready = False
            if ready and (workers == 1 or log.count("Application startup complete") >= workers):
                return
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (it shuts its workers down), SIGKILL after 20 s;
    then sweep the group, so no worker outlives the run."""
    try:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        os.killpg(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the last worker is gone (reaped), not just signalled
            os.killpg(process.pid, 0)
            time.sleep(0.05)
    except ProcessLookupError:
        pass  # the group is empty


async def _run_level(client: httpx.AsyncClient, endpoint: str, source: Iterator[dict], concurrency: int,
                     requests: int, max_seconds: float) -> LevelResult:
    for _ in range(WARM_UP):  # first requests pay lazy initialisation (jieba, model, caches)
        await client.post(f"/v1/{endpoint}", json=next(source))
    latencies: list[float] = []
    errors: list[str] = []
    remaining = iter(range(requests))
    started = time.perf_counter()
    stop_at = started + max_seconds

    async def worker() -> None:
        for _ in remaining:
            if time.perf_counter() > stop_at:
                return
            body = next(source)
            t0 = time.perf_counter()
            try:
                response = await client.post(f"/v1/{endpoint}", json=body)
                ok = response.status_code == 200
                problem = "" if ok else f"{response.status_code} {response.text[:160]}"
            except httpx.HTTPError as exc:
                ok, problem = False, f"{type(exc).__name__}: {exc}"
            latencies.append((time.perf_counter() - t0) * 1000)
            if not ok:
                errors.append(problem)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    sent = len(latencies)
    return LevelResult(endpoint, concurrency, requests, sent, len(errors), round(seconds, 3),
                       round(sent / seconds, 1) if seconds else 0.0, round(percentile(latencies, 50), 1),
                       round(percentile(latencies, 99), 1),
                       round(sum(latencies) / sent, 1) if sent else 0.0, errors[:5])


async def _run_all(server: LiveServer, requests: int, max_seconds: float, levels, endpoints,
                   keep_alive: bool = True) -> list[LevelResult]:
    # Kept-alive connections stay with the worker that accepted them, so c connections can sit
    # unevenly on the workers for a whole level; one connection per request spreads them as a
    # reverse proxy or many separate clients would.
    keep = max(levels) + 4 if keep_alive else 0
    limits = httpx.Limits(max_connections=max(levels) + 4, max_keepalive_connections=keep)
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=REQUEST_TIMEOUT,
                                 limits=limits, trust_env=False) as client:
        results = []
        for endpoint in endpoints:
            source = bodies(endpoint)  # one source per endpoint: no text is sent twice in a run
            for concurrency in levels:
                results.append(await _run_level(client, endpoint, source, concurrency, requests, max_seconds))
        return results


def run_load(data_dir: Path, requests: int = SHORT_REQUESTS, max_seconds: float = 120.0, workers: int = 1,
             levels=LEVELS, endpoints=ENDPOINTS, extra_env: dict[str, str] | None = None,
             keep_alive: bool = True) -> dict:
    """Serve `data_dir`, load it, stop it; the report as a dict (see `LevelResult`)."""
    load_before = os.getloadavg()
    started = time.perf_counter()
    with running_server(data_dir, workers, extra_env) as server:
        startup_s = time.perf_counter() - started
        results = asyncio.run(_run_all(server, requests, max_seconds, levels, endpoints, keep_alive))
    return {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "server": {"workers": workers, "startup_s": round(startup_s, 1), "data_dir": str(data_dir)},
        "client": {"keep_alive": keep_alive},
        "requests_per_level": requests, "max_seconds_per_level": max_seconds,
        "results": [asdict(r) for r in results],
        "total_errors": sum(r.errors for r in results),
    }


def format_table(report: dict) -> str:
    header = f"{'endpoint':<10}{'conc':>5}{'sent':>6}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}"
    lines = [header, "-" * len(header)]
    for r in report["results"]:
        lines.append(f"{'/v1/' + r['endpoint']:<10}{r['concurrency']:>5}{r['sent']:>6}{r['errors']:>8}"
                     f"{r['throughput_rps']:>8.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['mean_ms']:>9.1f}")
    machine, server = report["machine"], report["server"]
    keep_alive = report.get("client", {}).get("keep_alive", True)
    lines.append(f"workers={server['workers']}  cpus={machine['cpus']}  "
                 f"connections={'kept alive' if keep_alive else 'one per request'}  "
                 f"load before={machine['loadavg_before'][0]} after={machine['loadavg_after'][0]}")
    return "\n".join(lines)


def write_report(report: dict, out: Path) -> None:
    """Write next to the target first, then rename, so a reader never sees half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None, help="index to serve (default: HAZARD_DATA_DIR or data)")
    parser.add_argument("--requests", type=int, default=LONG_REQUESTS, help="requests per endpoint and level")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="stop sending after this long per level")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--new-connection-per-request", action="store_true",
                        help="no keep-alive: every request opens its own connection")
    parser.add_argument("--out", type=Path, default=Path("eval/reports/load.json"))
    args = parser.parse_args(argv)
    from api.settings import get_settings

    data_dir = (args.data_dir or get_settings().data_dir).resolve()
    report = run_load(data_dir, args.requests, args.max_seconds, args.workers,
                      keep_alive=not args.new_connection_per_request)
    print("负载测试 load test")
    print(format_table(report))
    write_report(report, args.out)
    print(f"written {args.out}")
    return 1 if report["total_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
