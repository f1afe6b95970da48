"""What every `hazard` command shares: JSON output, failing with a Chinese message, opening the
current index, finishing an evaluation run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from api.settings import get_settings


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def fail(message: str, code: int = 2) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def open_current_index(with_models: bool = True):
    """The current index with the configured embeddings (or BM25 only when `with_models` is off)."""
    from api.services import load_index
    from ingest.embeddings import EmbeddingBackendError
    from ingest.generations import NoIndexError
    from ingest.index import IndexMismatchError

    try:
        return load_index(get_settings(), with_models)
    except (NoIndexError, IndexMismatchError, EmbeddingBackendError) as exc:
        fail(str(exc))



def finish_eval(report: dict, out_path: Path, text: str, problems, check_floors: bool) -> None:
    """Write the JSON report, print the table, and fail when a floor is not met (if asked)."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    click.echo(text)
    click.echo(f"报告已写入 {out_path}")
    if check_floors:
        found = problems()
        for p in found:
            click.echo(f"低于下限：{p}", err=True)
        sys.exit(1 if found else 0)
