"""The `hazard` command line: thin shells over library calls, `--json` wherever scripts need it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from api.cli_answer import answer as answer_command
from api.cli_answer import eval_answer
from api.cli_audit import log_classification, replay
from api.cli_common import echo_json, fail, finish_eval, open_current_index
from api.cli_keys import keys
from api.cli_ops import backup_command, restore_command
from api.cli_quiz import eval_quiz, quiz
from api.cli_selfcheck import checklist, paperwork
from api.settings import get_settings


@click.group()
def main() -> None:
    """隐患判定助手 hazard-assistant：重大事故隐患判定标准的检索与判定。"""


@main.command()
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), default=None,
              help="语料目录（默认 HAZARD_CORPUS_DIR 或 ../shared/corpus）")
@click.option("--quiet", is_flag=True, help="不显示进度条")
def ingest(corpus_dir: Path | None, quiet: bool) -> None:
    """入库：把语料目录中的法规标准解析为条款并建立索引（增量、可中断）。"""
    from api.services import chroma_server
    from ingest.chroma_server import ChromaServerError
    from ingest.embeddings import embedding_key, make_embeddings
    from ingest.errors import IngestError
    from ingest.generations import IngestBusyError
    from ingest.pipeline import ingest as run_ingest
    from ingest.uploads import uploads_dir

    settings = get_settings()
    corpus = corpus_dir or settings.corpus_dir
    key = embedding_key(settings.embeddings, **settings.embedding_options())
    progress = None
    if not quiet:
        from tqdm import tqdm

        def progress(items, desc=""):
            return tqdm(items, desc=desc, file=sys.stderr, leave=False)
    try:
        report = run_ingest(corpus, settings.data_dir, key,
                            lambda: make_embeddings(settings.embeddings, **settings.embedding_options()),
                            settings.manifest, progress, keep_generations=settings.keep_generations,
                            extra_dirs=[uploads_dir(settings.data_dir)],  # admin uploads
                            vector_store=chroma_server(settings))
    except (IngestError, IngestBusyError, ChromaServerError) as exc:
        fail(str(exc))
    _print_ingest_report(report)
    sys.exit(0 if report.ok else 1)


def _print_ingest_report(report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False, width=160)
    table = Table(title=f"入库结果 ingest summary — generation {report.generation}")
    for col in ("文件 file", "文档 slug", "状态 status", "条款 clauses", "说明 notes"):
        table.add_column(col, overflow="fold")
    for d in sorted(report.docs, key=lambda d: (d.status != "失败", d.path, d.slug)):
        notes = d.error or "; ".join(w for w in d.warnings if "repeats" not in w)
        table.add_row(d.path, d.slug, d.status, str(d.clauses), notes[:200])
    console.print(table)
    total = sum(d.clauses for d in report.docs if d.status not in ("失败", "跳过", "删除"))
    if not report.changed:
        console.print(f"语料无变化，未做任何向量化（{report.seconds:.2f} 秒）/ corpus unchanged, nothing to do")
    else:
        console.print(f"共 {total} 条款；新向量化 {report.embedded} 条，复用 {report.reused_vectors} 条；"
                      f"用时 {report.seconds:.1f} 秒")
    if report.failures:
        console.print(f"[red]{len(report.failures)} 个文件失败[/red]（其余文件已入库）")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="输出JSON")
def docs(as_json: bool) -> None:
    """列出语料中的文档（含状态、施行日期、条款数）。"""
    index = open_current_index(with_models=False)
    rows = [_doc_json(d) for d in sorted(index.store.documents.values(), key=lambda d: (d.role != "criteria", d.slug))]
    if as_json:
        echo_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"文档 documents ({len(rows)})")
    for col in ("slug", "标题", "文号", "状态", "施行", "条款"):
        table.add_column(col, overflow="fold")
    for r in rows:
        count = "仅元数据" if r["metadata_only"] else str(r["clause_count"])
        table.add_row(r["slug"], r["title"], r["doc_number"], r["status"], r["effective"], count)
    Console(width=180).print(table)


def _doc_json(d) -> dict:
    return {
        "slug": d.slug, "title": d.title, "doc_number": d.doc_number, "status": d.status,
        "effective": d.effective, "clause_count": d.clause_count, "issued": d.issued, "kind": d.kind,
        "issuer": d.issuer, "role": d.role, "industries": list(d.industries), "domains": list(d.domains),
        "complete": d.complete, "metadata_only": d.metadata_only, "missing": list(d.missing),
        "replaces": list(d.replaces), "replaced_by": list(d.replaced_by), "status_note": d.status_note,
    }


@main.command()
@click.argument("clause_id")
@click.option("--json", "as_json", is_flag=True, help="输出JSON")
def clause(clause_id: str, as_json: bool) -> None:
    """显示一个条款的原文与引用，如 gongmao-major-hazard:11:10。"""
    from assistant.store import UnknownClauseError

    index = open_current_index(with_models=False)
    store = index.store
    try:
        c = store.clause(clause_id.strip())
    except UnknownClauseError as exc:
        fail(str(exc))
    citation = store.citation(c.clause_id)
    data = {
        "clause_id": c.clause_id, "text": c.text, "citation": citation.citation, "parent_id": c.parent_id,
        "article": c.article, "item": c.item, "sub_item": c.sub_item, "lead_in": c.lead_in,
        "chapter": c.chapter, "children": [x.clause_id for x in store.children(c.clause_id)],
        "document": _doc_json(store.document_of(c)),
    }
    if as_json:
        echo_json(data)
        return
    click.echo(citation.citation)
    click.echo(f"（{data['document']['status']}，施行：{data['document']['effective'] or '未载明'}）")
    click.echo("")
    click.echo(c.text)


@main.command()
@click.argument("query")
@click.option("-k", "k", default=10, show_default=True, help="返回条数")
@click.option("--document", "documents", multiple=True, help="限定文档slug（可多次）")
@click.option("--kind", "kinds", multiple=True, help="限定文种：法律、部门规章、国家标准…")
@click.option("--status", "statuses", multiple=True, help="限定状态：现行有效…")
@click.option("--industry", "industries", multiple=True, help="限定行业：冶金、煤矿…")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="输出JSON")
def search(query: str, k: int, documents, kinds, statuses, industries, mode: str, as_json: bool) -> None:
    """检索条款：BM25 + 向量混合检索，按相关度排序。"""
    from assistant.retrieval import SearchFilters

    if not query.strip():
        fail("检索内容为空 / empty query")
    index = open_current_index(with_models=mode != "bm25")
    filters = SearchFilters(tuple(documents), tuple(kinds), tuple(statuses), tuple(industries))
    hits = index.retriever.search(query, k=max(1, min(k, 100)), filters=filters,
                                  use_dense=mode != "bm25", use_bm25=mode != "dense")
    rows = []
    for h in hits:
        cit = index.store.citation(h.clause.clause_id)
        rows.append({"clause_id": h.clause.clause_id, "citation": cit.citation, "score": round(h.score, 6),
                     "quote": cit.quote, "document_title": cit.document_title, "doc_number": cit.doc_number,
                     "status": cit.status, "bm25": h.bm25, "dense": h.dense})
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("未检索到相关条款。可换用更具体的说法（设备、场所、行业）再试。")
    for i, r in enumerate(rows, 1):
        click.echo(f"{i}. {r['citation']}  [{r['clause_id']}]  相关度 {r['score']:.4f}")
        click.echo("   " + r["quote"].replace("\n", "\n   ")[:400])


@main.command()
@click.argument("situation", required=False)
@click.option("--industry", default="", help="行业：冶金、有色、建材、机械、轻工、纺织、烟草、商贸、煤矿…")
@click.option("--domain", "domains", multiple=True, help="专项领域：粉尘涉爆、涉氨制冷、有限空间、金属冶炼")
@click.option("--jsonl", "jsonl_in", type=click.Path(path_type=Path, exists=True), default=None,
              help="批量：每行 {\"id\", \"situation\", \"industry\"?}")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None, help="批量结果输出（JSONL）")
@click.option("--json", "as_json", is_flag=True, help="输出JSON")
def classify(situation: str | None, industry: str, domains, jsonl_in: Path | None, out_path: Path | None,
             as_json: bool) -> None:
    """判定现场情形：重大事故隐患 / 一般事故隐患 / 需补充信息 / 不属于隐患描述，并引用条款。"""
    from api.contracts import decision_json
    from api.services import build_classifier
    from assistant.classifier import LABEL_ZH, InputError, Profile

    if jsonl_in is None and not situation:
        fail("请提供情形描述，或用 --jsonl 指定批量文件 / give a situation or --jsonl")
    index = open_current_index(with_models=True)
    classifier = build_classifier(index)
    if jsonl_in is not None:
        _classify_jsonl(classifier, jsonl_in, out_path, industry)
        return
    try:
        decision = classifier.classify(situation, Profile(industry, tuple(domains)))
    except InputError as exc:
        fail(str(exc))
    data = decision_json(classifier, decision)
    audit_id = log_classification(index, situation, industry, domains, data)
    if audit_id:  # on stderr: stdout stays the --json contract
        click.echo(f"审计记录：{audit_id}（hazard replay {audit_id} 可复核）", err=True)
    if as_json:
        echo_json(data)
        return
    click.echo(f"判定：{LABEL_ZH[decision.label]}")
    click.echo(decision.explanation)
    for q in decision.questions:
        click.echo(f"  ？ {q}")


def _classify_jsonl(classifier, path: Path, out_path: Path | None, default_industry: str) -> None:
    from api.contracts import decision_json
    from assistant.classifier import InputError, Profile

    out = open(out_path, "w", encoding="utf-8") if out_path else sys.stdout
    failures = 0
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                profile = Profile(row.get("industry") or default_industry, tuple(row.get("domains") or ()))
                data = decision_json(classifier, classifier.classify(row.get("situation") or "", profile), row.get("id"))
            except (json.JSONDecodeError, InputError, AttributeError) as exc:
                failures += 1
                data = {"id": row.get("id") if isinstance(row, dict) else None, "error": f"第{n}行：{exc}"}
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
    finally:
        if out_path:
            out.close()
    if failures:
        click.echo(f"{failures} 行无法判定（见输出中的 error）", err=True)


@main.group("eval")
def eval_group() -> None:
    """评测：检索等（输出指标并写JSON报告）。"""


@eval_group.command("retrieval")
@click.option("--data", "data_path", type=click.Path(path_type=Path), default=None, help="评测集（默认 eval/data/retrieval.jsonl）")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=Path("eval/reports/retrieval.json"))
@click.option("--modes", default="hybrid,bm25,dense", show_default=True)
@click.option("--check-floors", is_flag=True, help="低于 eval/floors.json 的下限时以非零退出")
def eval_retrieval(data_path: Path | None, out_path: Path, modes: str, check_floors: bool) -> None:
    """检索评测：recall@1/5/10 与 MRR，总体及分文档。"""
    from eval.retrieval import evaluate, format_report, load_questions, below_floors

    index = open_current_index(with_models=True)
    questions = load_questions(data_path)
    report = evaluate(index.retriever, questions, [m.strip() for m in modes.split(",") if m.strip()])
    finish_eval(report, out_path, format_report(report), lambda: below_floors(report), check_floors)


@eval_group.command("classify")
@click.option("--set", "set_name", type=click.Choice(["classify", "classify_blind"]), default="classify",
              show_default=True, help="评测集：团队集，或只依据标准原文盲写的集（也决定 floors.json 中的下限）")
@click.option("--data", "data_path", type=click.Path(path_type=Path), default=None, help="改用此文件作评测集")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="报告（默认 eval/reports/<评测集>.json）")
@click.option("--check-floors", is_flag=True, help="低于 eval/floors.json 的下限时以非零退出")
def eval_classify(set_name: str, data_path: Path | None, out_path: Path | None, check_floors: bool) -> None:
    """判定评测：准确率、各标签P/R/F1、重大隐患召回、误判重大率、条款命中、改写一致性。"""
    from api.services import build_classifier
    from eval.classify import below_floors, evaluate, format_report, load_situations
    from eval.retrieval import load_floors

    classifier = build_classifier(open_current_index(with_models=True))
    report = evaluate(classifier, load_situations(data_path, set_name))
    out_path = out_path or Path(f"eval/reports/{set_name.replace('_', '-')}.json")
    finish_eval(report, out_path, format_report(report), lambda: below_floors(report, load_floors(), set_name),
                check_floors)


@main.command()
@click.argument("in_path", metavar="IN.xlsx|IN.csv", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="结果文件（.xlsx 或 .csv；CSV 输入默认输出 CSV）")
@click.option("--industry", default="", help="默认行业（台账无行业列或该行未填时使用）")
@click.option("--json", "as_json", is_flag=True, help="以JSON输出汇总")
@click.option("--quiet", is_flag=True, help="不显示进度条")
def ledger(in_path: Path, out_path: Path, industry: str, as_json: bool, quiet: bool) -> None:
    """批量判定隐患台账：逐行加上 判定结果、判定依据、最相近条款、待补充信息，并生成汇总与图表。"""
    from api.ledger_io import process_ledger, read_ledger_path, summary_json
    from api.services import build_classifier
    from assistant.ledger import LedgerError

    try:
        source = read_ledger_path(in_path)
    except LedgerError as exc:
        fail(str(exc))
    classifier = build_classifier(open_current_index(with_models=True))
    progress = None
    if not quiet:
        from tqdm import tqdm

        def progress(rows):
            return tqdm(rows, desc="判定", unit="行", file=sys.stderr, leave=False)
    try:
        result, seconds = process_ledger(classifier, source, out_path, industry, progress)
    except LedgerError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"无法写入 {out_path}：{exc.strerror or exc}")
    if as_json:
        echo_json({**summary_json(result, source, seconds), "out": str(out_path)})
        return
    summary = result.summary
    click.echo(summary.headline)
    for t in summary.by_industry:
        click.echo(f"  {t.industry}：" + "、".join(f"{n} {t.counts[k]}" for k, n in
                                               (("major", "重大"), ("general", "一般"), ("insufficient", "待补充"))))
    if summary.top_clauses:
        click.echo("最常涉及的条款：")
        for i, t in enumerate(summary.top_clauses, 1):
            click.echo(f"  {i}. {t.citation}（{t.total} 条，其中重大 {t.counts['major']} 条）")
    click.echo(f"已写入 {out_path}（用时 {seconds:.1f} 秒）")








@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（默认仅本机）")
@click.option("--port", default=8000, show_default=True, type=int, help="端口")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="工作进程数；每个进程各自加载索引，共用同一端口")
def serve(host: str, port: int, workers: int) -> None:
    """启动 HTTP API（/v1，JSON），索引在启动时加载一次。"""
    import uvicorn

    from api.access import serve_refusal
    from api.app import create_app

    # The app decides between single-user mode and API keys by where it listens.
    settings = get_settings().model_copy(update={"bind_host": host})
    refusal = serve_refusal(settings)
    if refusal:
        fail(refusal)

    if workers > 1:
        import os

        # Each worker process builds its app from the environment (api.app:create_app), so the
        # bind address that decides single-user mode vs API keys is passed on there.
        os.environ["HAZARD_BIND_HOST"] = host
        # Several processes: HAZARD_RATE_LIMIT_STORE=auto then counts in the shared database.
        os.environ["HAZARD_WORKERS"] = str(workers)
        # Share the cores among the workers' embedding threads rather than oversubscribe them.
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) // workers)))
        click.echo(f"服务启动中：http://{host}:{port}/（{workers} 个工作进程，各自加载索引）")
        uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")
        return

    class Server(uvicorn.Server):
        # Announce only once the index is loaded and the socket is bound (port 0 → the real port).
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            bound = self.servers[0].sockets[0].getsockname()[1] if self.servers else port
            click.echo(f"服务已启动：http://{host}:{bound}/")

    Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="info")).run()



@main.command()
@click.option("--session", "session_id", default=None, help="继续已有会话（会话ID）")
@click.option("--industry", default="", help="行业：冶金、有色、建材、机械、轻工、纺织、烟草、商贸、煤矿…")
@click.option("--domain", "domains", multiple=True, help="专项领域：粉尘涉爆、涉氨制冷、有限空间、金属冶炼")
def chat(session_id: str | None, industry: str, domains) -> None:
    """终端对话：提问法规、描述现场情形、回答追问；与 /v1/chat 同一逻辑、同一数据库。每行一条消息，输入 exit 或 Ctrl-D 结束。"""
    from api.db import ChatDatabase, UnknownSessionError, take_turn
    from api.services import build_classifier, build_dialogue
    from assistant.classifier import InputError, Profile

    settings = get_settings()
    index = open_current_index(with_models=True)
    dialogue = build_dialogue(index, build_classifier(index, settings), settings)
    db = ChatDatabase(settings.resolved_database_url(), timeout=settings.database_timeout)
    db.create_all()
    if session_id and not db.exists(session_id):
        fail(str(UnknownSessionError(session_id)))
    profile = Profile(industry, tuple(domains)) if industry or domains else None
    stdin = sys.stdin
    interactive = stdin.isatty()
    click.echo(f"会话 {session_id}（继续）" if session_id else "新会话（首条消息后显示会话ID）")
    click.echo("提问法规或描述现场情形；输入 exit 或按 Ctrl-D 结束。")
    while True:
        if interactive:
            click.echo("> ", nl=False)
        line = stdin.readline()
        if not line:
            break
        message = line.strip()
        if not message:
            continue
        if message.lower() in ("exit", "quit", "退出"):
            break
        try:
            result = take_turn(db, dialogue, session_id, message, profile)
        except InputError as exc:
            click.echo(f"错误：{exc}", err=True)
            continue
        if session_id is None:
            click.echo(f"（会话ID：{result.session_id}）")
        session_id = result.session_id
        reply = result.reply
        if reply.searched_query != message:
            click.echo(f"（按上文理解为：{reply.searched_query}）")
        click.echo(reply.text)
        click.echo("")
    db.dispose()


@eval_group.command("chat")
@click.option("--data", "data_path", type=click.Path(path_type=Path), default=None, help="评测集（默认 eval/data/chat.jsonl）")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=Path("eval/reports/chat.json"))
@click.option("--check-floors", is_flag=True, help="低于 eval/floors.json 的下限时以非零退出")
def eval_chat(data_path: Path | None, out_path: Path, check_floors: bool) -> None:
    """对话评测：多轮对话逐轮走 hazard chat 的同一逻辑（临时会话库），统计引用命中、引用精度、无依据回答、伪造引用、拒答正确率与误拒率、回复类型准确率。"""
    from api.services import build_classifier
    from assistant.dialogue import Dialogue
    from eval.chat import below_floors, evaluate, format_report, load_dialogues
    from eval.retrieval import load_floors

    index = open_current_index(with_models=True)
    report = evaluate(lambda: Dialogue(index.store, index.retriever, build_classifier(index)), load_dialogues(data_path))
    finish_eval(report, out_path, format_report(report), lambda: below_floors(report, load_floors()), check_floors)


if __name__ == "__main__":
    main()


# Commands defined in their own modules (api/cli_*.py).
for _command in (checklist, paperwork, quiz, answer_command, replay, backup_command, restore_command):
    main.add_command(_command)
for _command in (eval_quiz, eval_answer):
    eval_group.add_command(_command)
main.add_command(keys)
