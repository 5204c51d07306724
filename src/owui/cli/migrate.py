"""`owui migrate`: each service's Alembic migrations applied once, as a separate step.

Used where the services start with OWUI_MIGRATE_ON_START=false (a Kubernetes Job, a one-shot
Compose service): the same code the services run at start, from each service's models module
and migrations folder, without importing (or starting) the service apps themselves.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path
from typing import Annotated

import typer

from owui.core.services import SERVICES

NAMES = tuple(service.name for service in SERVICES)


def database_url(service: str) -> str:
    """DATABASE_URL_<SERVICE> (one database per service, as the manifests set), else the
    service's usual URL from the settings."""
    from owui.core.config import load_settings

    return (os.environ.get(f"DATABASE_URL_{service.upper()}")
            or load_settings().database_url_for(service))


async def migrate_service(service: str) -> str:
    """Bring one service's schema to head; returns the URL it used, password hidden."""
    from sqlalchemy.engine import make_url

    from owui.core.db import Database
    from owui.core.migrate import run_migrations

    models = importlib.import_module(f"owui.{service}.models")
    metadata = getattr(models, f"{service.capitalize()}Base").metadata
    migrations = Path(models.__file__).parent / "migrations"
    url = database_url(service)
    shown = make_url(url).render_as_string(hide_password=True)
    db = Database(url)
    try:
        await run_migrations(db, migrations, metadata, service)
    except Exception as exc:  # any failure is reported with the service and its database
        raise typer.BadParameter(
            f"{service}: migrating {shown} failed: {exc.__class__.__name__}: {exc}. "
            "Check DATABASE_URL (or OWUI_DATA_DIR for SQLite).") from None
    finally:
        await db.dispose()
    return shown


def migrate(
    services: Annotated[list[str] | None, typer.Argument(
        help=f"Services to migrate ({', '.join(NAMES)}); all five when none is named.",
        show_default=False)] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print only failures (as `owui up` runs it).")] = False,
) -> None:
    """Apply each service's database migrations (to head), then exit."""
    unknown = [name for name in services or () if name not in NAMES]
    if unknown:
        raise typer.BadParameter(f"unknown service {', '.join(unknown)}; "
                                 f"choose from {', '.join(NAMES)}", param_hint="SERVICE")
    from owui.core.config import SettingsError

    for service in services or NAMES:
        try:
            shown = asyncio.run(migrate_service(service))
        except typer.BadParameter as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        except SettingsError as exc:  # the variables at fault, named (no traceback)
            typer.echo(f"Error: {exc.code}", err=True)
            raise typer.Exit(1) from None
        if not quiet:
            typer.echo(f"{service}: migrated to head ({shown})")
