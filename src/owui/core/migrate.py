"""Alembic migrations, applied at service start; safe when several replicas start at once.

Each service keeps its revisions in `owui/<service>/migrations/versions`. No env.py is needed:
the environment is built here, around the service's own connection, under a lock that only one
replica holds at a time (a PostgreSQL advisory lock, or a file lock beside a SQLite file).

A schema already at head (every start but the first after an upgrade) is recognised without
Alembic: the scripts' `revision` and `down_revision` lines give the heads, one SELECT the
recorded ones. Alembic, its templates and the scripts (several MB that a running service would
keep) are imported only when there is something to migrate.
"""

from __future__ import annotations

import ast
import fcntl
import logging
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from owui.core.db import Database, is_sqlite

log = logging.getLogger("owui.migrate")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _upgrade(connection: Connection, script_dir: Path, metadata: MetaData, service: str) -> None:
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(script_dir))
    script = ScriptDirectory.from_config(config)

    def upgrade(revision, _context):
        return script._upgrade_revs("head", revision)

    with EnvironmentContext(config, script, fn=upgrade) as env:
        env.configure(connection=connection, target_metadata=metadata,
                      version_table=f"alembic_version_{service}",
                      render_as_batch=connection.dialect.name == "sqlite")
        with env.begin_transaction():
            if connection.dialect.name == "postgresql":
                key = zlib.crc32(f"owui-migrate-{service}".encode())
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            env.run_migrations()


async def run_migrations(db: Database, script_dir: Path, metadata: MetaData,
                         service: str) -> None:
    """Bring the service's schema to head; other replicas wait, then find nothing to do."""
    heads = script_heads(script_dir)
    if heads is not None and await _recorded_heads(db, service) == heads:
        return  # at head: nothing for Alembic to do, and it is not imported
    lock: AbstractContextManager[None] = nullcontext()
    if is_sqlite(db.url):
        database = make_url(db.url).database
        if database and database != ":memory:":
            lock = _file_lock(Path(database + ".migrate.lock"))
    with lock:
        async with db.engine.begin() as connection:
            await connection.run_sync(_upgrade, script_dir, metadata, service)


def _head_and_current(connection: Connection, script_dir: Path, service: str,
                      ) -> tuple[set[str], set[str]]:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(script_dir))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    context = MigrationContext.configure(
        connection, opts={"version_table": f"alembic_version_{service}"})
    return heads, set(context.get_current_heads())


def script_heads(script_dir: Path) -> frozenset[str] | None:
    """The head revisions of `script_dir/versions`, read from each script's literal `revision`
    and `down_revision` assignments without running it; None when a script does not have
    them in that plain form (Alembic then answers)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((script_dir / "versions").glob("*.py")):
        try:
            found = _literal_assignments(path.read_bytes(), ("revision", "down_revision"))
        except (OSError, SyntaxError, ValueError):
            return None
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str) or "down_revision" not in found:
            return None
        downs = (down,) if isinstance(down, str) else (() if down is None else down)
        if not isinstance(downs, tuple | list) or not all(isinstance(d, str) for d in downs):
            return None
        revisions.add(revision)
        parents.update(downs)
    return frozenset(revisions - parents) or None


def _literal_assignments(source: bytes, names: tuple[str, ...]) -> dict[str, object]:
    """Top-level `name = <literal>` (or `name: type = <literal>`) of a module's source."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            found[target.id] = ast.literal_eval(value)
    return found


async def _recorded_heads(db: Database, service: str) -> frozenset[str] | None:
    """The revisions in the service's version table; None when there is no table yet."""
    try:
        async with db.engine.connect() as connection:
            rows = await connection.execute(
                text(f"SELECT version_num FROM alembic_version_{service}"))
            return frozenset(rows.scalars())
    except DBAPIError:
        return None


async def at_head(db: Database, script_dir: Path, service: str) -> bool:
    """Whether the service's version table names its migrations' head (False when absent)."""
    heads = script_heads(script_dir)
    if heads is not None:
        return await _recorded_heads(db, service) == heads
    async with db.engine.connect() as connection:
        heads, current = await connection.run_sync(_head_and_current, script_dir, service)
    return current == heads
