"""The async SQLAlchemy engine and sessions of one service's database."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase


def new_id() -> str:
    """A row id: a random UUID, as Open WebUI's ids are."""
    return str(uuid.uuid4())


def now_epoch() -> int:
    """Seconds since the epoch, as Open WebUI's timestamps are."""
    return int(time.time())


class Base(DeclarativeBase):
    """Each service declares its own subclass, so that its metadata holds only its tables."""

    __abstract__ = True


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit the user saw survives a power cut, not only a crash of the process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def sqlite_connect(url: str) -> sqlite3.Connection:
    """A plain sqlite3 connection to a service's SQLite database, with the same PRAGMAs, for
    work that runs in a thread of its own (the chat service's group-commit writer)."""
    connection = sqlite3.connect(make_url(url).database or ":memory:", timeout=10)
    _sqlite_pragmas(connection, None)
    return connection


# Seconds to open a PostgreSQL connection (asyncpg waits 60 by default): a server that is
# unreachable fails a request with 503 in this time, not after a minute.
CONNECT_TIMEOUT = 10.0


def _connection_failure(exc: BaseException) -> bool:
    """Whether opening a connection failed because the server is down, restarting or
    unreachable (not because of, say, a wrong password)."""
    import asyncpg

    down = (OSError, TimeoutError, asyncpg.PostgresConnectionError,
            asyncpg.exceptions.OperatorInterventionError)
    return isinstance(exc, down) or isinstance(exc.__cause__, down)


def _connect(dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
             ) -> Any:
    """Opens a connection as SQLAlchemy would, but a refused or dropped attempt becomes the
    driver's OperationalError: asyncpg raises a plain OSError, which SQLAlchemy would pass on
    unwrapped (a 500); wrapped, it is a database error like any other (503, see errors.py)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as exc:
        if not _connection_failure(exc):
            raise
        raise dialect.loaded_dbapi.OperationalError(f"{type(exc).__name__}: {exc}") from exc


def create_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Called through its module: tracing (core.tracing) wraps it there.
        engine = sa_asyncio.create_async_engine(url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = sa_asyncio.create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True,
                                 pool_recycle=1800, connect_args={"timeout": CONNECT_TIMEOUT})
    event.listen(engine.sync_engine, "do_connect", _connect)
    return engine


class Database:
    """Engine and session factory, made once per service process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
