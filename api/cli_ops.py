"""`hazard backup DIR` / `hazard restore DIR`: thin shells over api/backup.py."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli_common import echo_json, fail
from api.settings import get_settings


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="输出JSON（备份清单）")
def backup_command(dest: Path, as_json: bool) -> None:
    """备份：数据库（在线）、当前索引版本（含向量缓存）与上传的文档，写入新目录 DEST，附校验清单。"""
    from api.backup import BackupError, backup

    try:
        summary = backup(get_settings(), dest)
    except (BackupError, OSError) as exc:
        fail(str(exc) if isinstance(exc, BackupError) else f"备份失败：{exc}")
    manifest = summary.manifest
    if as_json:
        echo_json({"path": str(summary.path), **manifest})
        return
    click.echo(f"已备份到 {summary.path}")
    click.echo(f"  数据库：{manifest['database']['kind']}；索引版本：{manifest['generation'] or '无'}；"
               f"文档 {len(manifest['documents'])} 个；上传文档 {len(manifest['uploads'])} 个；"
               f"文件 {len(manifest['files'])} 个（均附 SHA-256）")


@click.command("restore")
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="恢复到的数据目录（默认 HAZARD_DATA_DIR）")
@click.option("--force", is_flag=True, help="数据目录或目标数据库非空时仍然覆盖（请先停止服务）")
@click.option("--json", "as_json", is_flag=True, help="输出JSON（备份清单）")
def restore_command(src: Path, data_dir: Path | None, force: bool, as_json: bool) -> None:
    """恢复：校验备份 SRC 的每个文件后，恢复数据库、索引与上传的文档（默认拒绝覆盖非空的数据目录或已有数据的数据库）。"""
    from api.backup import BackupError, restore

    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    try:
        manifest = restore(src, settings, force=force)
    except (BackupError, OSError) as exc:
        fail(str(exc) if isinstance(exc, BackupError) else f"恢复失败：{exc}")
    if as_json:
        echo_json({"data_dir": str(settings.data_dir), **manifest})
        return
    click.echo(f"已从 {src} 恢复到 {settings.data_dir}（校验通过）")
    click.echo(f"  备份时间：{manifest['created_at']}；索引版本：{manifest['generation'] or '无'}；"
               f"文档 {len(manifest['documents'])} 个；上传文档 {len(manifest['uploads'])} 个")
