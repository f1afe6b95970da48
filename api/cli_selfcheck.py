"""`hazard checklist` and `hazard paperwork`: thin shells over assistant.selfcheck and
assistant.paperwork (registered on the `hazard` group in api/cli.py)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from api.cli_common import echo_json, fail, open_current_index


@click.command()
@click.option("--industry", default="", help="行业：有色、冶金、机械、轻工…（也可写“铝加工”等）")
@click.option("--domain", "domains", multiple=True, help="专项领域（可多次）：粉尘涉爆、涉氨制冷、有限空间、金属冶炼")
@click.option("--description", default="", help="单位描述，如“我们是做铝型材挤压和熔铸的”（据此推定行业和领域）")
@click.option("--json", "as_json", is_flag=True, help="输出JSON")
def checklist(industry: str, domains, description: str, as_json: bool) -> None:
    """重大事故隐患自查检查表：按行业和专项领域列出全部适用的判定情形，每项一个是/否问题。"""
    from api.services import build_classifier, industry_domains
    from assistant.selfcheck import ProfileError, build_checklist, resolve_profile

    classifier = build_classifier(open_current_index(with_models=False))
    try:
        profile = resolve_profile(classifier, industry, tuple(domains), description, industry_domains())
    except ProfileError as exc:
        fail(str(exc))
    result = build_checklist(classifier, profile)
    if as_json:
        echo_json(result.to_dict())
        return
    inferred = list(profile.inferred_industries) + list(profile.inferred_domains)
    click.echo(f"行业：{'、'.join(profile.industries)}；专项领域：{'、'.join(profile.domains) or '无'}"
               + (f"（推定：{'、'.join(inferred)}）" if inferred else ""))
    click.echo(f"共 {len(result.criteria_ids())} 个判定情形，{len(result.items())} 个检查项。")
    for group in result.groups:
        click.echo("")
        click.echo(group.heading)
        for item in group.items:
            click.echo(f"  [{item.item_id}] {item.question}（回答“{item.hazard_answer}”即为重大事故隐患）")


@click.command()
@click.option("--kind", type=click.Choice(["record", "order"]), required=True,
              help="record 隐患排查记录；order 责令限期整改指令书")
@click.option("--situation", "situations", multiple=True, help="现场情形描述（可多次），逐条判定后写入")
@click.option("--from", "from_path", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="hazard classify --json / --jsonl 的输出文件（JSON 或每行一个 JSON）")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="输出文件：.docx 或 .html")
def paperwork(kind: str, situations, from_path: Path | None, out_path: Path) -> None:
    """由判定结果生成隐患排查记录或责令限期整改指令书草稿（DOCX/HTML）：判定依据引用条款原文，执法人员填写的栏目留空。"""
    from api.contracts import decision_json
    from api.paperwork_render import paper_docx, paper_html
    from api.services import build_classifier, consequence_rules
    from assistant.classifier import InputError
    from assistant.paperwork import (
        PaperworkInputError,
        build_paper,
        findings_from_classification,
    )

    fmt = out_path.suffix.lower().lstrip(".")
    if fmt not in ("docx", "html"):
        fail("输出文件的扩展名应为 .docx 或 .html")
    if not situations and from_path is None:
        fail("请用 --situation 给出情形描述，或用 --from 指定判定结果文件")
    classifications = _read_classifications(from_path) if from_path else []
    classifier = build_classifier(open_current_index(with_models=True))
    findings = [f for data in classifications for f in findings_from_classification(data)]
    try:
        for text in situations:
            findings += findings_from_classification(decision_json(classifier, classifier.classify(text)))
        paper = build_paper(kind, findings, classifier.store, classifier.registry, consequence_rules(),
                            classifier.retriever)
    except (InputError, PaperworkInputError) as exc:
        fail(str(exc))
    content = paper_docx(paper) if fmt == "docx" else paper_html(paper).encode("utf-8")
    _write_atomically(out_path, content)
    click.echo(f"已写入 {out_path}（{paper.title}，{len(paper.findings)} 项隐患）")


def _read_classifications(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8").strip()
    try:
        data = json.loads(text)
        rows = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                fail(f"{path} 第{n}行不是合法的JSON")
    good = [r for r in rows if isinstance(r, dict) and "findings" in r]
    if len(good) != len(rows):
        fail(f"{path} 中有 {len(rows) - len(good)} 条不是判定结果（缺少 findings，或为出错行）")
    return good


def _write_atomically(path: Path, content: bytes) -> None:
    """A temp file in the same folder, then one rename: no half-written output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
