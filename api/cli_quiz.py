"""`hazard quiz` and `hazard eval quiz`: thin shells over assistant.quiz and eval.quiz."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

TEXT_FORMATS = ("json", "markdown")


def _quiz_services():
    """Clause store and criteria registry of the current index (BM25 only: no model is needed)."""
    from api.cli_common import open_current_index
    from api.services import build_classifier

    classifier = build_classifier(open_current_index(with_models=False))
    return classifier.store, classifier.registry


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file next to `path`, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; the export is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@click.command("quiz")
@click.option("--document", "documents", multiple=True, help="出题文档slug（可多次），如 gongmao-major-hazard")
@click.option("--industry", "industries", multiple=True, help="行业（可多次）：冶金、有色、煤矿…")
@click.option("--domain", "domains", multiple=True, help="专项领域（可多次）：粉尘涉爆、涉氨制冷、有限空间、金属冶炼")
@click.option("--single", default=0, show_default=True, type=int, help="单选题数量")
@click.option("--multiple", default=0, show_default=True, type=int, help="多选题数量")
@click.option("--judge", default=0, show_default=True, type=int, help="判断题数量")
@click.option("--fill", default=0, show_default=True, type=int, help="填空题数量")
@click.option("--difficulty", type=click.Choice(["easy", "medium", "hard"]), default="medium", show_default=True,
              help="难度")
@click.option("--seed", default=42, show_default=True, type=int,
              help="随机种子（相同参数与种子生成相同试卷）")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown", "docx", "xlsx"]), default="json",
              show_default=True, help="输出格式")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="输出文件（docx、xlsx 必填；json、markdown 不给则打印）")
def quiz(documents, industries, domains, single: int, multiple: int, judge: int, fill: int, difficulty: str,
         seed: int, fmt: str, out_path: Path | None) -> None:
    """生成培训试卷：单选、多选、判断、填空，每题附答案、解析与条款依据（均经条款库校验）。"""
    from api.cli_common import fail
    from api.quiz_export import FORMATS
    from assistant.quiz import QuizRequestError, generate_quiz
    from assistant.quiz_model import TYPE_ZH, QuizRequest

    if fmt not in TEXT_FORMATS and out_path is None:
        fail(f"{fmt} 格式请用 --out 指定输出文件")
    store, registry = _quiz_services()
    request = QuizRequest(documents=tuple(documents), industries=tuple(industries), domains=tuple(domains),
                          single=single, multiple=multiple, judge=judge, fill=fill, difficulty=difficulty, seed=seed)
    try:
        result = generate_quiz(store, registry, request)
    except QuizRequestError as exc:
        fail(str(exc))
    data = FORMATS[fmt].render(result)
    if out_path is None:
        click.echo(data.decode("utf-8"))
    else:
        try:
            write_atomically(out_path, data)
        except OSError as exc:
            fail(f"无法写入 {out_path}：{exc.strerror or exc}")
    short = [f"{TYPE_ZH[t]} {result.produced[t]}/{n}" for t, n in result.requested.items() if n]
    click.echo(f"试卷 {result.id}（种子 {result.seed}）：" + "，".join(short)
               + (f"；已写入 {out_path}" if out_path else ""), err=True)
    if sum(result.produced.values()) < sum(result.requested.values()):
        click.echo("部分题目未能通过校验或素材不足，已少出；可换种子或扩大出题范围。", err=True)


@click.command("quiz")
@click.option("--count", default=500, show_default=True, type=click.IntRange(1, 5000), help="生成题目数")
@click.option("--seed", default=1, show_default=True, type=int, help="随机种子")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=Path("eval/reports/quiz.json"))
@click.option("--check-floors", is_flag=True, help="低于 eval/floors.json 的下限时以非零退出")
def eval_quiz(count: int, seed: int, out_path: Path, check_floors: bool) -> None:
    """出题有效性评测：在全部语料上按种子生成题目（各题型、各文档、三种难度），独立重新校验并统计未通过数及原因。"""
    from api.cli_common import finish_eval
    from eval.quiz import below_floors, evaluate, format_report
    from eval.retrieval import load_floors

    store, registry = _quiz_services()
    report = evaluate(store, registry, count, seed)
    finish_eval(report, out_path, format_report(report), lambda: below_floors(report, load_floors()), check_floors)


