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
import logging
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager, suppress
from functools import lru_cache
from typing import Annotated, Any, TypeVar, cast

import orjson
from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from owui.chat.responses import dumps
from owui.core.background import cancel_and_wait
from owui.core.db import sqlite_connect

log = logging.getLogger("owui.chat.rawdb")
# Readers per process: SQLite answers from a local file (a few suffice, and each keeps a page
# cache); PostgreSQL's round trips overlap, so more help there.
POOL_SIZE = {"sqlite": 4, "postgresql": 8}
SQLITE_READER_CACHE_KIB = 1024
GROUP_COMMIT_MAX = 64
# The writer's housekeeping (e.g. indexing new messages for search) runs with a batch at most
# this often while busy, and after this long of quiet.
HOUSEKEEPING_EVERY = 0.25
HOUSEKEEPING_IDLE = 1.0
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


class RawConnection(ABC):
    """One borrowed driver connection; statements take `:name` parameters."""

    dialect = ""

    @abstractmethod
    async def fetch(self, sql: str, params: Mapping[str, Any] | None = None
                    ) -> list[Sequence[Any]]:
        """All rows of a query."""

    @abstractmethod
    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Runs one statement; returns the number of rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Runs one statement once per row of parameters."""

    @abstractmethod
    async def write(self, job: Job[T]) -> T:
        """Run `job(connection)` in a transaction: committed if it returns, rolled back if it
        raises (the exception passes on)."""

    @abstractmethod
    def in_list(self, name: str, values: Sequence[Any], params: dict[str, Any]) -> str:
        """`IN (...)` over `values`, its parameters added to `params`."""

    def decode_json(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value


class SqliteConnection(RawConnection):
    dialect = "sqlite"

    def __init__(self, connection: Any, writer: SqliteWriter | None = None) -> None:
        self.connection = connection  # aiosqlite.Connection
        self.writer = writer

    async def fetch(self, sql: str, params: Mapping[str, Any] | None = None
                    ) -> list[Sequence[Any]]:
        with _sqlite_errors(sql):
            return list(await self.connection.execute_fetchall(sql, params or {}))

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        with _sqlite_errors(sql):
            return int((await self.connection.execute(sql, params or {})).rowcount)

    async def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            with _sqlite_errors(sql):
                await self.connection.executemany(sql, rows)

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


@contextmanager
def _sqlite_errors(sql: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise _translate(exc, sql) from exc


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


class ThreadSqliteConnection(SqliteConnection):
    """The writer's own sqlite3 connection, used only in the writer's thread: its methods do
    their work at once, so a write job driven there never suspends (see `_drive`)."""

    async def fetch(self, sql: str, params: Mapping[str, Any] | None = None
                    ) -> list[Sequence[Any]]:
        with _sqlite_errors(sql):
            return self.connection.execute(sql, params or {}).fetchall()

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        with _sqlite_errors(sql):
            return int(self.connection.execute(sql, params or {}).rowcount)

    async def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            with _sqlite_errors(sql):
                self.connection.executemany(sql, rows)

    async def write(self, job: Job[T]) -> T:
        raise RuntimeError("a write job cannot start another")


def _drive(coroutine: Awaitable[T]) -> T:
    """Run a write job to its end in this thread: on the writer's connection it never waits."""
    assert isinstance(coroutine, Coroutine)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("a write job waited on something other than its connection")


class SqliteWriter:
    """Group commit: the jobs waiting when the writer is free run in one transaction, in one
    call to the writer's thread (a thread hop per statement would cost more than the work).

    `housekeeping`, a job of the service's, joins a batch every HOUSEKEEPING_EVERY seconds, or
    runs alone after HOUSEKEEPING_IDLE seconds without writes."""

    def __init__(self, url: str, housekeeping: Job[Any] | None = None) -> None:
        self.url = url
        self.housekeeping = housekeeping
        self.last_housekeeping = 0.0
        self.queue: asyncio.Queue[tuple[Job[Any], asyncio.Future[Any] | None]] = asyncio.Queue()
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self.connection: ThreadSqliteConnection | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.connection = ThreadSqliteConnection(
            await loop.run_in_executor(self.thread, sqlite_connect, self.url))
        self.task = asyncio.create_task(self._run(), name="sqlite-group-commit")

    async def stop(self) -> None:
        await cancel_and_wait(self.task)
        if self.connection is not None:
            await asyncio.get_running_loop().run_in_executor(
                self.thread, self.connection.connection.close)
        self.thread.shutdown(wait=True)

    async def submit(self, job: Job[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((job, future))
        return await future

    async def _next_batch(self) -> list[tuple[Job[Any], asyncio.Future[Any] | None]]:
        """The jobs waiting (none if none came for HOUSEKEEPING_IDLE seconds)."""
        try:
            batch = [await asyncio.wait_for(self.queue.get(), HOUSEKEEPING_IDLE)]
        except TimeoutError:
            return []
        while len(batch) < GROUP_COMMIT_MAX and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            jobs = [job for job, _future in batch]
            if self.housekeeping is not None and (
                    not jobs or loop.time() - self.last_housekeeping >= HOUSEKEEPING_EVERY):
                self.last_housekeeping = loop.time()
                jobs.append(self.housekeeping)
                batch.append((self.housekeeping, None))
            if not jobs:
                continue
            try:
                outcomes = await loop.run_in_executor(self.thread, self._commit, jobs)
            except Exception as exc:  # the commit itself failed: so did every job
                error = _translate(exc, "COMMIT") if isinstance(exc, sqlite3.Error) else exc
                outcomes = [_Failed(error)] * len(batch)
            for (_job, future), outcome in zip(batch, outcomes, strict=True):
                if future is None:  # housekeeping: nobody waits for it
                    if isinstance(outcome, _Failed):
                        log.warning("writer housekeeping failed: %s", outcome.error)
                    continue
                if future.done():  # the caller went away; its write stands
                    continue
                if isinstance(outcome, _Failed):
                    future.set_exception(outcome.error)
                else:
                    future.set_result(outcome)

    def _commit(self, jobs: list[Job[Any]]) -> list[Any]:
        """In the writer's thread: every job under a savepoint, then one commit."""
        assert self.connection is not None
        conn, sql = self.connection, self.connection.connection
        alone = len(jobs) == 1
        outcomes: list[Any] = []
        sql.execute("BEGIN IMMEDIATE")
        try:
            for job in jobs:
                if not alone:
                    sql.execute("SAVEPOINT job")
                try:
                    outcomes.append(_drive(job(conn)))
                except Exception as exc:
                    if alone:
                        raise
                    sql.execute("ROLLBACK TO job")
                    outcomes.append(_Failed(exc))
                if not alone:
                    sql.execute("RELEASE job")
            sql.commit()
        except BaseException:
            sql.rollback()
            raise
        return outcomes


class _Failed:
    """A job that raised: rolled back to its savepoint; the others in its batch go on."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class RawPool:
    """A few driver connections borrowed from the SQLAlchemy pool until shutdown."""

    def __init__(self, engine: AsyncEngine, housekeeping: Job[Any] | None = None) -> None:
        self.engine = engine
        self.housekeeping = housekeeping
        self.size = POOL_SIZE.get(engine.dialect.name, 4)
        self.borrowed: list[Any] = []
        self.idle: asyncio.Queue[RawConnection] = asyncio.Queue()
        self.writer: SqliteWriter | None = None

    async def _borrow(self) -> RawConnection:
        pooled = await self.engine.raw_connection()
        self.borrowed.append(pooled)
        driver = pooled.driver_connection
        if self.engine.dialect.name == "postgresql":
            return PostgresConnection(driver)
        connection = SqliteConnection(driver, self.writer)
        await connection.execute(f"PRAGMA cache_size = -{SQLITE_READER_CACHE_KIB}")
        return connection

    async def start(self) -> None:
        if self.engine.dialect.name == "sqlite":
            self.writer = SqliteWriter(self.engine.url.render_as_string(hide_password=False),
                                       self.housekeeping)
            await self.writer.start()
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


async def raw_connection(request: Request) -> AsyncIterator[RawConnection]:
    # The pool is the chat Runtime's (runtime.py, which imports this module).
    async with request.app.state.runtime.raw.acquire() as connection:
        yield connection


Raw = Annotated[RawConnection, Depends(raw_connection)]
