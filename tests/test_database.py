"""Stores: migrations at start on SQLite and PostgreSQL, safe when replicas start at once."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from tests.conftest import bearer, signup

POSTGRES = "postgresql://postgres@127.0.0.1:5432"


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def pg_database() -> Iterator[str]:
    name = f"owui_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _fetch(database: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(f"{POSTGRES}/{database}")
    try:
        return await connection.fetch(sql)
    finally:
        await connection.close()


def _gateway_head() -> str:
    """The gateway's newest migration: what one migration run by several replicas must reach."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import owui.gateway

    config = Config()
    config.set_main_option("script_location",
                           str(Path(owui.gateway.__file__).parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def _start_replicas(make_gateway, count: int, **env: str) -> list:
    replicas = [make_gateway(wait=False, **env) for _ in range(count)]
    for replica in replicas:
        replica.wait_ready()
    return replicas


def test_replicas_on_postgres_migrate_once_and_share_users(make_gateway, pg_database) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_database}"
    one, two, three = _start_replicas(make_gateway, 3, DATABASE_URL=url)
    versions = asyncio.run(_fetch(pg_database, "SELECT version_num FROM alembic_version_gateway"))
    assert [row["version_num"] for row in versions] == [_gateway_head()]
    user = signup(one.url)
    assert user["role"] == "admin"
    signin = httpx.post(f"{two.url}/api/v1/auths/signin",
                        json={"email": user["email"], "password": "correct-horse"})
    assert signin.status_code == 200
    assert httpx.get(f"{three.url}/api/v1/auths/", headers=bearer(user["token"])
                     ).status_code == 200


def test_replicas_on_one_sqlite_file_migrate_once(make_gateway, tmp_path) -> None:
    shared = tmp_path / "shared"
    _start_replicas(make_gateway, 3, OWUI_DATA_DIR=str(shared))
    with sqlite3.connect(shared / "gateway.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = connection.execute("SELECT version_num FROM alembic_version_gateway").fetchall()
    assert rows == [(_gateway_head(),)]


def test_concurrent_first_signups_make_one_admin(make_gateway) -> None:
    gw = make_gateway().url

    async def race() -> list[str]:
        async with httpx.AsyncClient() as client:
            answers = await asyncio.gather(*(
                client.post(f"{gw}/api/v1/auths/signup", json={
                    "name": f"n{i}", "email": f"race{i}@example.com",
                    "password": "correct-horse"}) for i in range(6)))
        return [a.json()["role"] for a in answers]

    roles = asyncio.run(race())
    assert sorted(roles) == ["admin"] + ["user"] * 5


def test_unreachable_database_stops_start_up_clearly(make_gateway) -> None:
    proc = make_gateway(wait=False, DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/x")
    assert proc.process.wait(30) != 0
    assert "cannot open its database postgresql+asyncpg://postgres@127.0.0.1:1/x" in proc.log()
    assert "Check DATABASE_URL" in proc.log()
