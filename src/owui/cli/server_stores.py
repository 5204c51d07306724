"""The server profile on one machine: a PostgreSQL database per service, and `chroma run`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from owui.core.services import NAMES

DEFAULT_BASE = "owui"
# PostgreSQL's own databases: never a prefix for ours.
SYSTEM_DATABASES = frozenset({"postgres", "template0", "template1"})


class StoreError(Exception):
    """A store the server profile needs is missing or unreachable; the message says which."""


def service_database_urls(database_url: str | None) -> dict[str, str]:
    """One URL per service, on the server and credentials of DATABASE_URL: its database name
    (or `owui` when it names none, or a system database) plus `_SERVICE`."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not database_url or not database_url.startswith("postgresql+asyncpg://"):
        raise StoreError("the server profile needs DATABASE_URL=postgresql+asyncpg://USER@HOST"
                         f"[:PORT]/NAME (got {database_url!r}); each service gets NAME_SERVICE")
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise StoreError(f"DATABASE_URL: {exc}") from None
    base = url.database if url.database and url.database not in SYSTEM_DATABASES else DEFAULT_BASE
    return {name: url.set(database=f"{base}_{name}").render_as_string(hide_password=False)
            for name in NAMES}


async def create_databases(urls: dict[str, str]) -> list[str]:
    """Create the databases that do not exist yet; the names of those created."""
    import asyncpg
    from sqlalchemy.engine import make_url

    first = make_url(next(iter(urls.values())))
    dsn = first.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    try:
        connection = await asyncpg.connect(dsn, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise StoreError(f"cannot reach PostgreSQL at {first.host}:{first.port or 5432} "
                         f"as {first.username}: {exc}") from None
    created = []
    try:
        for url in urls.values():
            name = make_url(url).database
            if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                             name):
                # Names come from NAMES and an identifier we quote; no user text is spliced.
                await connection.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
    except asyncpg.PostgresError as exc:
        raise StoreError(f"cannot create the service databases: {exc}") from None
    finally:
        await connection.close()
    return created


def chroma_argv(data_dir: Path, host: str, port: int) -> list[str]:
    """`chroma run` from the installed chromadb package, beside this Python."""
    beside = Path(sys.executable).parent / "chroma"
    program = str(beside) if beside.exists() else shutil.which("chroma")
    if program is None:
        raise StoreError("the chroma command (from the chromadb package) is not installed")
    return [program, "run", "--path", str(data_dir / "chroma"), "--host", host,
            "--port", str(port)]
