"""`hazard replay ID`: re-run a logged decision on the generation it used and compare with today;
and the audit entry `hazard classify` writes."""

from __future__ import annotations

import click

from api.cli_common import echo_json, fail
from api.routes.deps import (
    LOCAL_OWNER as CLI_OWNER,  # the terminal user, like single-user mode
)
from api.settings import get_settings


def open_audit_log():
    from api.audit import AuditLog
    from api.db import ChatDatabase

    db = ChatDatabase(get_settings().resolved_database_url())
    db.create_all()
    return db, AuditLog(db.engine)


def log_classification(index, situation: str, industry: str, domains, data: dict) -> str | None:
    """Log one `hazard classify`; the audit ID, or None when the database cannot be written."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.audit import CLASSIFY, new_audit_id, record_decision

    try:
        db, audit = open_audit_log()
    except (SQLAlchemyError, OSError, ImportError):
        return None
    try:
        audit_id = new_audit_id()
        logged_input = {"situation": situation, "profile": {"industry": industry, "domains": list(domains)}}
        ok = record_decision(audit, audit_id, CLI_OWNER, CLASSIFY, logged_input, data, index, get_settings())
        return audit_id if ok else None
    finally:
        db.dispose()


@click.command()
@click.argument("audit_id")
@click.option("--json", "as_json", is_flag=True, help="输出JSON")
def replay(audit_id: str, as_json: bool) -> None:
    """复核一条审计记录：在当时的索引版本上重新运行，判断是否与当时一致，并与今天的语料比较。"""
    from sqlalchemy.exc import SQLAlchemyError

    from api.audit import UnknownAuditError
    from api.replay import replay as run_replay
    from ingest.embeddings import EmbeddingBackendError
    from ingest.generations import NoIndexError
    from ingest.index import IndexMismatchError

    try:
        db, audit = open_audit_log()
        try:
            record = audit.get(audit_id.strip())
        finally:
            db.dispose()
    except UnknownAuditError as exc:
        fail(str(exc))
    except (SQLAlchemyError, OSError, ImportError) as exc:
        fail(f"无法读取审计数据库（HAZARD_DATABASE_URL）：{exc.__class__.__name__}")
    try:
        report = run_replay(record, get_settings())
    except (NoIndexError, IndexMismatchError, EmbeddingBackendError) as exc:
        fail(str(exc))
    if as_json:
        echo_json(report.to_dict())
        return
    for line in report_lines(report):
        click.echo(line)


def report_lines(report) -> list[str]:
    r = report.record
    kind = "隐患判定" if r.kind == "classify" else "对话"
    text = r.input.get("situation") or r.input.get("message") or ""
    profile = r.input.get("profile") or {}
    scope = "；".join(x for x in (f"行业：{profile.get('industry')}" if profile.get("industry") else "",
                                  "领域：" + "、".join(profile.get("domains")) if profile.get("domains") else "") if x)
    lines = [f"审计记录 {r.id}（{kind}，{r.created_at:%Y-%m-%d %H:%M:%S} UTC，调用者 {r.owner}）",
             f"输入：{text}" + (f"（{scope}）" if scope else "")]
    if r.kind == "chat" and r.input.get("history"):
        lines.append(f"会话 {r.input.get('session_id')}，此前 {len(r.input['history'])} 条消息")
    lines.append(f"当时的索引版本：{r.generation}（文档清单指纹 {r.fingerprint.get('manifest', '未知')}）")
    lines.append("")
    if report.original is not None:
        lines.append(f"一、在当时的索引版本 {report.original.generation} 上重新运行：")
        lines += _run_lines(report.original)
    else:
        lines.append(f"一、无法在当时的索引版本 {r.generation} 上重新运行（见下方说明）。")
    lines.append("")
    if report.current is None:
        lines.append("二、当前没有可用的索引。")
    elif report.original is None:
        lines.append(f"二、仅在当前索引版本 {report.current.generation} 上重新运行（当时的版本已不可用，"
                     f"以下不代表当时的依据），与当时的输出相比：")
        lines += _run_lines(report.current)
    elif report.current is report.original:
        lines.append(f"二、今天的索引版本就是当时的版本（{r.generation}），无需另行比较。")
    else:
        lines.append(f"二、与今天的索引版本 {report.current.generation} 相比：")
        lines += _run_lines(report.current)
    if report.notes:
        lines.append("")
        lines.append("说明：")
        lines += [f"  · {n}" for n in report.notes]
    return lines


def _run_lines(run) -> list[str]:
    if run.identical:
        return ["   与当时一致"]
    lines = ["   与当时不一致："]
    for d in run.differences:
        lines.append(f"   - {d.text}")
        if d.field in ("quote", "citation", "explanation", "answer"):
            lines.append(f"       当时：{_short(d.before)}")
            lines.append(f"       现在：{_short(d.after)}")
    return lines


def _short(value, limit: int = 300) -> str:
    text = str(value if value is not None else "（无）").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"
