"""Settings an admin changes while the service runs (connections, sign-up, documents, web search,
code execution, interface), stored by the service that owns them.

Each service keeps them in its own `<service>_live_config` table (distinct names, so that services
sharing one database keep theirs apart), one row per key holding a JSON value.
Environment variables give the first values (`defaults`); a key never written keeps its default.
Every replica reads the rows changed since its last look every `interval` seconds, so a change
made on one replica applies on all within about that long, and at once on the replica that made
it. Reads are from memory: `config["ENABLE_SIGNUP"]` costs a dict lookup.

A service adds the table to its metadata with `live_config_table(metadata, service)`, creates it
in one of its migrations with `create_live_config_table(service)`, and starts a `LiveConfig` with
its runtime.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from owui.core.background import cancel_and_wait, every
from owui.core.db import Database
from owui.core.errors import BadRequestError

log = logging.getLogger("owui.live_config")
# A row committed by another replica may carry a timestamp slightly older than our last look.
_OVERLAP = 10.0


class UnknownSettingError(BadRequestError):
    def __init__(self, names: list[str], known: list[str]) -> None:
        super().__init__(f"Unknown setting(s): {', '.join(names)}. "
                         f"Known settings: {', '.join(known)}.")


def _columns() -> list[sa.Column[Any]]:
    return [sa.Column("key", sa.String(200), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
            sa.Column("updated_at", sa.Float, nullable=False, index=True)]


def table_name(service: str) -> str:
    return f"{service}_live_config"


def live_config_table(metadata: sa.MetaData, service: str) -> sa.Table:
    """The table in a service's metadata (so that its migrations and models agree)."""
    return sa.Table(table_name(service), metadata, *_columns())


def create_live_config_table(service: str) -> None:
    """For a service's migration: `op.create_table` of the table above."""
    from alembic import op

    op.create_table(table_name(service), *_columns())


def drop_live_config_table(service: str) -> None:
    from alembic import op

    op.drop_table(table_name(service))


class LiveConfig:
    """The current values, in memory, kept in step with the table. `on_change(keys)` listeners
    run after this replica applies changed keys (its own writes or another replica's)."""

    def __init__(self, db: Database, table: sa.Table, defaults: Mapping[str, Any],
                 interval: float = 1.0) -> None:
        self.db = db
        self.table = table
        self.defaults = dict(defaults)
        self.interval = interval
        self._values: dict[str, Any] = dict(defaults)
        self._listeners: list[Callable[[set[str]], object]] = []
        self._seen_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def snapshot(self) -> dict[str, Any]:
        """A copy of every value (safe for the caller to change)."""
        return json.loads(json.dumps(self._values))

    def on_change(self, listener: Callable[[set[str]], object]) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        await self.refresh()
        self._task = every(self.interval, self.refresh, name="live config refresh")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def update(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Store `values` (all of them or none) and apply them here at once; the new snapshot."""
        unknown = sorted(set(values) - set(self.defaults))
        if unknown:
            raise UnknownSettingError(unknown, sorted(self.defaults))
        now = time.time()
        rows = [{"key": key, "value": json.dumps(value), "updated_at": now}
                for key, value in values.items()]
        if rows:
            async with self.db.engine.begin() as connection:
                await connection.execute(self._upsert(connection.dialect.name), rows)
            self._apply({key: value for key, value in values.items()})
        return self.snapshot()

    async def refresh(self) -> None:
        started = time.time()
        query = sa.select(self.table.c.key, self.table.c.value).where(
            self.table.c.updated_at >= self._seen_at - _OVERLAP)
        async with self.db.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        changed = {key: json.loads(value) for key, value in rows
                   if key in self.defaults}
        self._seen_at = started
        self._apply({k: v for k, v in changed.items() if self._values.get(k) != v})

    def _apply(self, changed: dict[str, Any]) -> None:
        if not changed:
            return
        self._values.update(changed)
        for listener in self._listeners:
            try:
                listener(set(changed))
            except Exception:  # one listener's fault must not stop the others or the refresh
                log.exception("live config listener failed")

    def _upsert(self, dialect: str) -> sa.Insert:
        # The dialect's module on first write, not at import: PostgreSQL's is ~2 MB that a
        # service on SQLite would hold for nothing (and SQLite's is loaded with aiosqlite).
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        insert = dialect_insert(self.table)
        return insert.on_conflict_do_update(
            index_elements=[self.table.c.key],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at})
