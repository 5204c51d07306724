"""Driver-level access for the hot paths: reading chats, creating them, appending messages.

SQLAlchemy's async adapters cost several thread hops (aiosqlite) or layers (asyncpg) per
statement: measured here, reading one chat took 1.9 ms through an AsyncSession and 0.2 ms on the
driver (SQLite; 2.5 ms and 0.6 ms on PostgreSQL). So these paths borrow a few connections from
the service's SQLAlchemy pool for the life of the process (PRAGMAs and codecs already applied)
and run plain SQL with named parameters (`:name`) on them. Everything else uses SQLAlchemy.

Driver errors come out as SQLAlchemy's, so the service's handlers map them as usual (409, 503).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from owui.chat.responses import dumps

POOL_SIZE = 8
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def encode_json(value: Any) -> str | None:
    return None if value is None else dumps(value).decode()


@lru_cache(maxsize=512)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` placeholders to asyncpg's `$1`, and the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


class RawConnection:
    """One borrowed driver connection; statements take `:name` parameters."""

    dialect = ""

    async def fetch(self, sql: str, params: Mapping[str, Any] | None = None
                    ) -> list[Sequence[Any]]:
        raise TypeError(self.dialect)

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Runs one statement; returns the number of rows it changed."""
        raise TypeError(self.dialect)

    async def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        raise TypeError(self.dialect)

    def transaction(self) -> Any:
        """`async with conn.transaction():` commits at the end, or rolls back on error."""
        raise TypeError(self.dialect)

    def decode_json(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def in_list(self, name: str, values: Sequence[Any], params: dict[str, Any]) -> str:
        """`IN (...)` over `values`, its parameters added to `params`."""
        raise TypeError(self.dialect)


class SqliteConnection(RawConnection):
    dialect = "sqlite"

    def __init__(self, connection: Any) -> None:
        self.connection = connection  # aiosqlite.Connection

    async def fetch(self, sql: str, params: Mapping[str, Any] | None = None
                    ) -> list[Sequence[Any]]:
        try:
            return list(await self.connection.execute_fetchall(sql, params or {}))
        except sqlite3.Error as exc:
            raise _translate(exc, sql) from exc

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        try:
            cursor = await self.connection.execute(sql, params or {})
        except sqlite3.Error as exc:
            raise _translate(exc, sql) from exc
        return int(cursor.rowcount)

    async def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            try:
                await self.connection.executemany(sql, rows)
            except sqlite3.Error as exc:
                raise _translate(exc, sql) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        # The driver opens the transaction at the first write (so reads before it wait for
        # no lock); this commits it.
        try:
            yield
            await self.connection.commit()
        except BaseException:
            await self.connection.rollback()
            raise

    def in_list(self, name: str, values: Sequence[Any], params: dict[str, Any]) -> str:
        keys = [f"{name}_{i}" for i in range(len(values))]
        params.update(zip(keys, values, strict=True))
        return f"IN ({', '.join(':' + k for k in keys)})" if keys else "IN (NULL)"


class PostgresConnection(RawConnection):
    dialect = "postgresql"

    def __init__(self, connection: Any) -> None:
        self.connection = connection  # asyncpg.Connection

    @staticmethod
    def _args(sql: str, params: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        numbered, names = _numbered(sql)
        return numbered, [(params or {})[name] for name in names]

    async def fetch(self, sql: str, params: Mapping[str, Any] | None = None
                    ) -> list[Sequence[Any]]:
        numbered, args = self._args(sql, params)
        async with _postgres_errors(sql):
            return list(await self.connection.fetch(numbered, *args))

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        numbered, args = self._args(sql, params)
        async with _postgres_errors(sql):
            status = await self.connection.execute(numbered, *args)
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            numbered, names = _numbered(sql)
            async with _postgres_errors(sql):
                await self.connection.executemany(
                    numbered, [[row[name] for name in names] for row in rows])

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with _postgres_errors("transaction"), self.connection.transaction():
            yield

    def in_list(self, name: str, values: Sequence[Any], params: dict[str, Any]) -> str:
        params[name] = list(values)
        return f"= ANY(:{name})"


def _translate(exc: Exception, sql: str) -> Exception:
    kind = IntegrityError if isinstance(exc, sqlite3.IntegrityError) else OperationalError
    return kind(sql, None, exc)


@asynccontextmanager
async def _postgres_errors(sql: str) -> AsyncIterator[None]:
    import asyncpg

    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(sql, None, exc) from exc
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError,
            asyncpg.exceptions.OperatorInterventionError) as exc:
        raise OperationalError(sql, None, exc, connection_invalidated=True) from exc


class RawPool:
    """A few driver connections borrowed from the SQLAlchemy pool until shutdown."""

    def __init__(self, engine: AsyncEngine, size: int = POOL_SIZE) -> None:
        self.engine = engine
        self.size = size
        self.borrowed: list[Any] = []
        self.idle: asyncio.Queue[RawConnection] = asyncio.Queue()

    async def _borrow(self) -> RawConnection:
        pooled = await self.engine.raw_connection()
        self.borrowed.append(pooled)
        driver = pooled.driver_connection
        if self.engine.dialect.name == "postgresql":
            return PostgresConnection(driver)
        return SqliteConnection(driver)

    async def start(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await self._borrow())

    async def stop(self) -> None:
        for pooled in self.borrowed:
            with suppress(Exception):
                await greenlet_spawn(pooled.close)
        self.borrowed.clear()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[RawConnection]:
        connection = await self.idle.get()
        try:
            yield connection
        except OperationalError as exc:
            if exc.connection_invalidated:  # the server dropped it (a restart): take another
                connection = await self._replace(connection)
            raise
        finally:
            self.idle.put_nowait(connection)

    async def _replace(self, connection: RawConnection) -> RawConnection:
        for pooled in self.borrowed:
            if pooled.driver_connection is getattr(connection, "connection", None):
                self.borrowed.remove(pooled)
                with suppress(Exception):
                    await greenlet_spawn(pooled.invalidate)
                break
        try:
            return await self._borrow()
        except Exception:  # still down: keep the old one, the next request tries again
            return connection


async def start_pool(app: FastAPI) -> None:
    app.state.raw = RawPool(app.state.db.engine)
    await app.state.raw.start()


async def stop_pool(app: FastAPI) -> None:
    await app.state.raw.stop()


async def raw_connection(request: Request) -> AsyncIterator[RawConnection]:
    async with request.app.state.raw.acquire() as connection:
        yield connection


Raw = Annotated[RawConnection, Depends(raw_connection)]
