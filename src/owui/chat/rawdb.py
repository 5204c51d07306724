"""Driver-level access for the hot paths: reading chats, creating them, appending messages.

SQLAlchemy's async adapters cost several thread hops (aiosqlite) or layers (asyncpg) per
statement: measured here, reading one chat took 1.9 ms through an AsyncSession and 0.2 ms on the
driver (SQLite; 2.5 ms and 0.6 ms on PostgreSQL). So these paths borrow a few connections from
the service's SQLAlchemy pool for the life of the process (PRAGMAs and codecs already applied)
and run plain SQL with named parameters (`:name`) on them. Everything else uses SQLAlchemy.

Writes go through `conn.write(job)`. On PostgreSQL a job runs in a transaction of its own. On
SQLite, which has one writer at a time and syncs every commit to disk, jobs queue for a single
writer connection that runs those waiting in one transaction, each under a savepoint (a failing
job rolls back alone): one disk sync serves them all (group commit).

Driver errors come out as SQLAlchemy's, so the service's handlers map them as usual (409, 503).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from functools import lru_cache
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, FastAPI, Request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from owui.chat.responses import dumps

POOL_SIZE = 8
GROUP_COMMIT_MAX = 64
T = TypeVar("T")
Job = Callable[["RawConnection"], Awaitable[T]]
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

    async def write(self, job: Job[T]) -> T:
        """Run `job(connection)` in a transaction: committed if it returns, rolled back if it
        raises (the exception passes on)."""
        raise TypeError(self.dialect)

    def decode_json(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def in_list(self, name: str, values: Sequence[Any], params: dict[str, Any]) -> str:
        """`IN (...)` over `values`, its parameters added to `params`."""
        raise TypeError(self.dialect)


class SqliteConnection(RawConnection):
    dialect = "sqlite"

    def __init__(self, connection: Any, writer: SqliteWriter | None = None) -> None:
        self.connection = connection  # aiosqlite.Connection
        self.writer = writer

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

    async def write(self, job: Job[T]) -> T:
        assert self.writer is not None
        return await self.writer.submit(job)

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

    async def write(self, job: Job[T]) -> T:
        async with _postgres_errors("transaction"), self.connection.transaction():
            return await job(self)

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


class SqliteWriter:
    """Group commit: the jobs waiting when the writer is free run in one transaction."""

    def __init__(self, connection: SqliteConnection) -> None:
        self.connection = connection
        self.queue: asyncio.Queue[tuple[Job[Any], asyncio.Future[Any]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="sqlite-group-commit")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with suppress(asyncio.CancelledError):
                await self.task

    async def submit(self, job: Job[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((job, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < GROUP_COMMIT_MAX and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                outcomes = await self._commit(batch)
            except Exception as exc:  # the commit itself failed: so did every job
                outcomes = [exc] * len(batch)
            for (_job, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the caller went away; its write stands
                    continue
                if isinstance(outcome, _Failed):
                    future.set_exception(outcome.error)
                elif isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _commit(self, batch: list[tuple[Job[Any], asyncio.Future[Any]]]) -> list[Any]:
        conn = self.connection
        alone = len(batch) == 1
        outcomes: list[Any] = []
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for job, _future in batch:
                if not alone:
                    await conn.execute("SAVEPOINT job")
                try:
                    outcomes.append(await job(conn))
                except Exception as exc:
                    if alone:
                        raise
                    await conn.execute("ROLLBACK TO job")
                    outcomes.append(_Failed(exc))
                if not alone:
                    await conn.execute("RELEASE job")
            await conn.connection.commit()
        except BaseException:
            await conn.connection.rollback()
            raise
        return outcomes


class _Failed:
    """A job that raised: rolled back to its savepoint; the others in its batch go on."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class RawPool:
    """A few driver connections borrowed from the SQLAlchemy pool until shutdown."""

    def __init__(self, engine: AsyncEngine, size: int = POOL_SIZE) -> None:
        self.engine = engine
        self.size = size
        self.borrowed: list[Any] = []
        self.idle: asyncio.Queue[RawConnection] = asyncio.Queue()
        self.writer: SqliteWriter | None = None

    async def _borrow(self) -> RawConnection:
        pooled = await self.engine.raw_connection()
        self.borrowed.append(pooled)
        driver = pooled.driver_connection
        if self.engine.dialect.name == "postgresql":
            return PostgresConnection(driver)
        return SqliteConnection(driver, self.writer)

    async def start(self) -> None:
        if self.engine.dialect.name == "sqlite":
            writer = await self._borrow()
            assert isinstance(writer, SqliteConnection)
            self.writer = SqliteWriter(writer)
            self.writer.start()
        for _ in range(self.size):
            self.idle.put_nowait(await self._borrow())

    async def stop(self) -> None:
        if self.writer is not None:
            await self.writer.stop()
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
