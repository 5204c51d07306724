"""Alembic migrations, applied at service start; safe when several replicas start at once.

Each service keeps its revisions in `owui/<service>/migrations/versions`. No env.py is needed:
the environment is built here, around the service's own connection, under a lock that only one
replica holds at a time (a PostgreSQL advisory lock, or a file lock beside a SQLite file).
"""

from __future__ import annotations

import fcntl
import logging
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, MetaData, text
from sqlalchemy.engine import make_url

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


async def at_head(db: Database, script_dir: Path, service: str) -> bool:
    """Whether the service's version table names its migrations' head (False when absent)."""
    async with db.engine.connect() as connection:
        heads, current = await connection.run_sync(_head_and_current, script_dir, service)
    return current == heads
