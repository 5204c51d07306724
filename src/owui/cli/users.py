"""`owui users`: accounts made from the command line, for headless set-up."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # imported for real inside the commands, to keep `owui` quick to start
    from owui.core.config import Settings
    from owui.core.db import Database

app = typer.Typer(help="Manage accounts without the API (headless set-up).", no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Where the local stores live (sets OWUI_DATA_DIR).", show_default=False)]


def _use_data_dir(data_dir: Path | None) -> None:
    if data_dir is not None:
        os.environ["OWUI_DATA_DIR"] = str(data_dir.expanduser().resolve())


async def _open_gateway_db() -> tuple[Settings, Database]:
    from owui.core.config import load_settings
    from owui.core.db import Database
    from owui.core.migrate import run_migrations
    from owui.gateway import models

    settings = load_settings()
    db = Database(settings.database_url_for("gateway"))
    migrations = Path(models.__file__).parent / "migrations"
    await run_migrations(db, migrations, models.GatewayBase.metadata, "gateway")
    return settings, db


async def _create(name: str, email: str, password: str, admin: bool) -> tuple[str, str]:
    from owui.core.passwords import hash_password
    from owui.gateway import crud

    settings, db = await _open_gateway_db()
    try:
        async with db.sessions() as session:
            if await crud.get_user_by_email(session, email) is not None:
                raise typer.BadParameter(f"an account with {email} already exists",
                                         param_hint="--email")
            role = "admin" if admin else settings.default_user_role
            user = await crud.create_user(session, name=name, email=email, role=role,
                                          password_hash=hash_password(password))
            return user.id, user.role
    finally:
        await db.dispose()


@app.command()
def create(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "Admin",
    password: Annotated[str, typer.Option(
        prompt=True, hide_input=True, confirmation_prompt=True, envvar="OWUI_PASSWORD",
        help="At least 8 characters; prompted for when not given (or OWUI_PASSWORD).")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Make the account an admin.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create an account directly in the gateway's database."""
    if len(password) < 8:
        raise typer.BadParameter("use at least 8 characters", param_hint="--password")
    _use_data_dir(data_dir)
    user_id, role = asyncio.run(_create(name, email, password, admin))
    typer.echo(f"Created {role} {email.strip().lower()} ({user_id}).")


async def _list() -> list[tuple[str, str, str, str]]:
    from owui.gateway import crud

    _settings, db = await _open_gateway_db()
    try:
        async with db.sessions() as session:
            users, _total = await crud.list_users(session, query=None, order_by="created_at",
                                                  descending=False, page=1, per_page=1000)
            return [(u.email, u.name, u.role, u.id) for u in users]
    finally:
        await db.dispose()


@app.command("list")
def list_users(data_dir: DataDir = None) -> None:
    """List accounts."""
    from rich.console import Console
    from rich.table import Table

    _use_data_dir(data_dir)
    table = Table("email", "name", "role", "id", box=None)
    for row in asyncio.run(_list()):
        table.add_row(*row)
    Console().print(table)
