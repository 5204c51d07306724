"""Fresh PostgreSQL databases for tests.

The server at 127.0.0.1:5432 (trust auth, user `postgres`) when it answers; otherwise a
throwaway cluster made with Debian's `initdb` and `pg_ctl` on a free port (through
`runuser -u postgres` when running as root, since PostgreSQL refuses root), stopped and removed
after the run. Every database made here is dropped at the end of the session.

Use the fixtures from a conftest.py:

    from tests.support.postgres import make_postgres_database, postgres_server  # noqa: F401

    def test_x(make_postgres_database):
        url = make_postgres_database()  # postgresql+asyncpg://postgres@HOST:PORT/owui_test_...
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.procs import free_port

HOST = "127.0.0.1"
DEFAULT_PORT = 5432
USER = "postgres"


def run_async(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to the end, also from a thread whose event loop is already running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _answers(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


def postgres_program(name: str) -> str:
    """`initdb`/`pg_ctl` from PATH, else from the newest /usr/lib/postgresql/N/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit()
                        else 0)
    if not candidates:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian: apt-get install "
                           "postgresql), and nothing answers at 127.0.0.1:5432.")
    return candidates[-1]


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str = USER
    base_dir: Path | None = None  # set for a throwaway cluster, removed on stop
    runner: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    options: str = ""  # the throwaway cluster's server options, for `pg_ctl start`

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def url(self, database: str) -> str:
        """What a service takes as DATABASE_URL."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"owui_test_{uuid.uuid4().hex[:12]}"
        run_async(_execute(self.dsn(), f'CREATE DATABASE "{name}"'))
        self.databases.append(name)
        return name

    def drop_database(self, name: str) -> None:
        run_async(_execute(self.dsn(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.databases:
            self.databases.remove(name)

    def pg_ctl(self, *args: str) -> None:
        """`pg_ctl start`, or `pg_ctl stop -m immediate`, on a throwaway cluster."""
        assert self.base_dir is not None, "only a throwaway cluster is stopped and started"
        extra = ["-l", str(self.base_dir / "server.log"), "-o", self.options] if (
            args[:1] == ("start",)) else []
        subprocess.run([*self.runner, postgres_program("pg_ctl"), "-D",
                        str(self.base_dir / "data"), *extra, "-w", "-t", "60", *args],
                       capture_output=True, check=True, timeout=90)

    def stop(self) -> None:
        for name in list(self.databases):
            self.drop_database(name)
        if self.base_dir is None:
            return
        subprocess.run([*self.runner, postgres_program("pg_ctl"), "-D",
                        str(self.base_dir / "data"), "-m", "immediate", "-w", "stop"],
                       capture_output=True, check=False, timeout=60)
        shutil.rmtree(self.base_dir, ignore_errors=True)


def start_throwaway_cluster() -> PostgresServer:
    """initdb + pg_ctl start in a temporary directory, listening on a free local port."""
    base = Path(tempfile.mkdtemp(prefix="owui-pg-"))
    runner: list[str] = []
    if os.geteuid() == 0:
        runner = ["runuser", "-u", USER, "--"]
        shutil.chown(base, USER, USER)
    server = PostgresServer(HOST, free_port(), base_dir=base, runner=runner)
    server.options = (f"-p {server.port} -k {base} -c listen_addresses={HOST} -c fsync=off "
                      "-c full_page_writes=off -c synchronous_commit=off")
    try:
        subprocess.run([*runner, postgres_program("initdb"), "-D", str(base / "data"), "-U",
                        USER, "--auth=trust", "--encoding=UTF8", "--no-sync"],
                       capture_output=True, check=True, timeout=120)
        server.pg_ctl("start")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (base / "server.log").read_text(errors="replace") if (
            base / "server.log").exists() else ""
        server.stop()
        output = getattr(exc, "stderr", b"") or b""
        raise RuntimeError(f"could not start a throwaway PostgreSQL: {exc}\n"
                           f"{output.decode(errors='replace')}\n{log}") from None
    return server


def connect_or_start() -> PostgresServer:
    """The server at 127.0.0.1:5432 if it answers, else a throwaway cluster."""
    local = PostgresServer(HOST, DEFAULT_PORT)
    if run_async(_answers(local.dsn())):
        return local
    return start_throwaway_cluster()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = connect_or_start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def make_postgres_database(postgres_server: PostgresServer) -> Callable[[], str]:
    """Makes a fresh database and returns its DATABASE_URL; all are dropped after the run."""

    def make() -> str:
        return postgres_server.url(postgres_server.create_database())

    return make
