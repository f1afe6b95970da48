"""`hazard keys`: create, list and revoke API keys (CLI only: keys are never managed over HTTP)."""

from __future__ import annotations

import click

from api.cli_common import echo_json, fail
from api.settings import get_settings

ROLE_CHOICE = click.Choice(["inspector", "enterprise", "trainer", "admin"])


def _store():
    from sqlalchemy.exc import SQLAlchemyError

    from api.db import ChatDatabase
    from api.keys import KeyStore

    try:
        db = ChatDatabase(get_settings().resolved_database_url())
        db.create_all()
    except (SQLAlchemyError, OSError, ImportError) as exc:
        fail(f"无法打开数据库（HAZARD_DATABASE_URL）：{exc}")
    return KeyStore(db.engine)


@click.group()
def keys() -> None:
    """API 密钥管理：创建、列出、吊销（角色：inspector 监管执法人员、enterprise 企业、trainer 培训讲师、admin 管理员）。"""


@keys.command("create")
@click.option("--role", required=True, type=ROLE_CHOICE, help="角色")
@click.option("--name", required=True, help="密钥名称（唯一，如 张三-执法终端）")
@click.option("--owner", default="", help="数据所有者（默认同名称；给同一人换发新密钥时填原所有者，可继续访问其会话与报告）")
@click.option("--json", "as_json", is_flag=True, help="输出JSON（含密钥本身，仅此一次）")
def create_key(role: str, name: str, owner: str, as_json: bool) -> None:
    """创建 API 密钥；密钥只显示这一次，服务端只保存其哈希值。"""
    from api.keys import KeyAdminError

    try:
        key, info = _store().create(name, role, owner)
    except KeyAdminError as exc:
        fail(str(exc))
    if as_json:
        echo_json(info.to_dict() | {"key": key})
        return
    click.echo(f"已创建密钥“{info.name}”（角色：{info.role}，所有者：{info.owner}）：")
    click.echo(key)
    click.echo("请立即妥善保存此密钥：它只显示这一次，服务端只保存其哈希值，丢失后无法找回，只能吊销后重新创建。"
               "使用方式：请求头 Authorization: Bearer <密钥>。", err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="输出JSON")
def list_keys(as_json: bool) -> None:
    """列出全部密钥（名称、所有者、角色、创建与吊销时间；不显示密钥本身）。"""
    infos = _store().all()
    if as_json:
        echo_json([i.to_dict() for i in infos])
        return
    if not infos:
        click.echo("还没有任何密钥（hazard keys create --role ROLE --name NAME 创建）")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="API 密钥")
    for col in ("名称", "所有者", "角色", "创建时间", "状态"):
        table.add_column(col, overflow="fold")
    for i in infos:
        state = f"已吊销（{i.revoked_at:%Y-%m-%d %H:%M}）" if i.revoked_at else "有效"
        table.add_row(i.name, i.owner, i.role, f"{i.created_at:%Y-%m-%d %H:%M}", state)
    Console(width=160).print(table)


@keys.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """吊销名为 NAME 的密钥：立即生效，此后用它的请求一律 401。"""
    from api.keys import KeyAdminError

    try:
        info, was_active = _store().revoke(name)
    except KeyAdminError as exc:
        fail(str(exc))
    click.echo(f"已吊销密钥“{info.name}”" if was_active else f"密钥“{info.name}”此前已吊销，无需重复操作")
