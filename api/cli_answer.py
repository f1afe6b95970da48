"""`hazard answer` (answer-key checking) and `hazard eval answer`: thin shells over
assistant/answering.py through api/answer_io.py."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from assistant.answering import JUDGE, MULTIPLE, SINGLE

_SHOWN = {True: "正确", False: "错误", None: "语料不能确定"}


def _write_atomically(path: Path, rows: list[dict]) -> None:
    """Write the JSONL next to its destination, then rename: no half-written output files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _question_from_args(text: str, options: tuple[str, ...], kind: str | None, key: str | None) -> dict:
    from api.cli_common import fail

    parsed = {}
    for raw in options:
        letter, sep, body = raw.partition("=")
        if not sep or not letter.strip() or not body.strip():
            fail(f"选项格式应为 字母=内容，如 --option \"A=第一责任人\"，收到 {raw!r}")
        parsed[letter.strip().upper()] = body.strip()
    row: dict = {"id": 1, "type": kind or (SINGLE if parsed else JUDGE), "question": text}
    if parsed:
        row["options"] = parsed
    if key is not None:
        row["answer"] = [c for c in key.upper() if c.isalpha()] if row["type"] == MULTIPLE else key
    return row


@click.command("answer")
@click.argument("question", required=False)
@click.option("--option", "options", multiple=True, help="选项，可多次：--option \"A=第一责任人\"")
@click.option("--type", "kind", type=click.Choice([SINGLE, MULTIPLE, JUDGE]), default=None,
              help="题型（默认：有选项为 single，否则 judge）")
@click.option("--answer", "key", default=None, help="待核对的答案：A、AC、true/false")
@click.option("--jsonl", "jsonl_in", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="批量：每行 {\"id\", \"type\", \"question\", \"options\"?, \"answer\"?}")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="批量结果输出（JSONL；不给则写到标准输出）")
@click.option("--json", "as_json", is_flag=True, help="输出JSON")
def answer(question: str | None, options, kind: str | None, key: str | None, jsonl_in: Path | None,
           out_path: Path | None, as_json: bool) -> None:
    """核对试题答案：依据语料作答（单选、多选、判断）并引用条款；语料不能确定时答 null；答案与现行条文不符时提示。"""
    from api.answer_io import answer_lines, answer_rows
    from api.cli_common import echo_json, fail, open_current_index
    from api.services import build_answer_checker

    if jsonl_in is None and not (question and question.strip()):
        fail("请提供题干，或用 --jsonl 指定批量文件 / give a question or --jsonl")
    if jsonl_in is not None:
        try:
            lines = jsonl_in.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            fail(f"{jsonl_in} 不是UTF-8编码的文本文件")
        checker = build_answer_checker(open_current_index(with_models=True))
        rows = answer_lines(checker, lines)
        if out_path is not None:
            _write_atomically(out_path, rows)
            unread = sum(1 for r in rows if r["answer"] is None and str(r.get("note", "")).startswith("无法作答"))
            click.echo(f"已作答 {len(rows)} 题，结果写入 {out_path}" + (f"（{unread} 行无法读取，见 note）" if unread else ""))
        else:
            for row in rows:
                click.echo(json.dumps(row, ensure_ascii=False))
        return
    row = _question_from_args(question, options, kind, key)
    checker = build_answer_checker(open_current_index(with_models=True))
    result = answer_rows(checker, [row])[0]
    if as_json:
        echo_json(result)
        return
    shown = result["answer"]
    if isinstance(shown, list):
        shown = "".join(shown)
    elif shown in (True, False, None):
        shown = _SHOWN[shown]
    click.echo(f"答案：{shown}（置信度 {result['confidence']:.2f}）")
    if "agrees_with_key" in result:
        click.echo("与所给答案一致" if result["agrees_with_key"] else "与所给答案不一致")
    if result.get("note"):
        click.echo(f"说明：{result['note']}")
    for c in result["citations"]:
        click.echo(f"依据：{c['citation']}")
        click.echo("  " + c["quote"].replace("\n", "\n  ")[:400])


@click.command("answer")
@click.option("--data", "data_path", type=click.Path(path_type=Path), default=None, help="评测集（默认 eval/data/answer.jsonl）")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=Path("eval/reports/answer.json"))
@click.option("--check-floors", is_flag=True, help="低于 eval/floors.json 的下限时以非零退出")
def eval_answer(data_path: Path | None, out_path: Path, check_floors: bool) -> None:
    """答案核对评测：分题型准确率（dev/test 两个划分）、null 率、错答率、过时答案标记的精确率与召回率、引用命中。"""
    from api.cli_common import finish_eval, open_current_index
    from api.services import build_answer_checker
    from eval.answer import below_floors, evaluate, format_report, load_items
    from eval.retrieval import load_floors

    checker = build_answer_checker(open_current_index(with_models=True))
    report = evaluate(checker, load_items(data_path))
    finish_eval(report, out_path, format_report(report), lambda: below_floors(report, load_floors()), check_floors)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(answer())
