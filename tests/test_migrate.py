"""`owui migrate` and OWUI_MIGRATE_ON_START=false: real processes, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from owui.cli.migrate import NAMES
from tests.support.postgres import make_postgres_database, postgres_server  # noqa: F401
from tests.support.procs import REPO, start_service

SECRET = "m" * 40
NOT_AT_HEAD = "database schema not at head: run owui migrate"


def head(service: str) -> str:
    versions = REPO / "src" / "owui" / service / "migrations" / "versions"
    return max(path.name.split("_")[0] for path in versions.glob("[0-9]*.py"))


def owui_migrate(env: dict[str, str], *services: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "owui", "migrate", *services],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=180, cwd=REPO)


async def versions(url: str, services: tuple[str, ...]) -> dict[str, list[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return {s: list((await connection.execute(
                text(f"SELECT version_num FROM alembic_version_{s}"))).scalars())
                for s in services}
    finally:
        await engine.dispose()


async def has_version_table(url: str, service: str) -> bool:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(
                text("SELECT to_regclass(:name)"), {"name": f"alembic_version_{service}"})
            return found.scalar() is not None
    finally:
        await engine.dispose()


def test_migrate_every_service_on_fresh_sqlite(tmp_path: Path) -> None:
    result = owui_migrate({"OWUI_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == list(NAMES)
    for service in NAMES:
        url = f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
        assert asyncio.run(versions(url, (service,))) == {service: [head(service)]}
    again = owui_migrate({"OWUI_DATA_DIR": str(tmp_path)}, "chat")
    assert again.returncode == 0 and again.stdout.startswith("chat: migrated to head")


def test_migrate_on_fresh_postgres(make_postgres_database) -> None:  # noqa: F811
    url = make_postgres_database()
    result = owui_migrate({"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == len(NAMES)
    assert asyncio.run(versions(url, NAMES)) == {s: [head(s)] for s in NAMES}


def test_migrate_errors_name_the_service_and_hide_the_password(tmp_path: Path) -> None:
    bad = "postgresql+asyncpg://owui:hunter2secret@127.0.0.1:1/owui_x"
    result = owui_migrate({"OWUI_DATA_DIR": str(tmp_path), "DATABASE_URL_INFERENCE": bad},
                          "inference")
    assert result.returncode == 1
    assert "inference" in result.stderr and "127.0.0.1:1/owui_x" in result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout
    unknown = owui_migrate({"OWUI_DATA_DIR": str(tmp_path)}, "nosuch")
    assert unknown.returncode == 2 and "nosuch" in unknown.stderr


def test_service_waits_unready_until_owui_migrate(make_postgres_database,  # noqa: F811
                                                  tmp_path: Path) -> None:
    url = make_postgres_database()
    env = {"DATABASE_URL": url, "OWUI_DATA_DIR": str(tmp_path), "JWT_SECRET_KEY": SECRET,
           "OWUI_MIGRATE_ON_START": "false"}
    proc = start_service("inference", env, tmp_path / "logs", wait=False)
    try:
        proc.wait_ready(timeout=60, path="/healthz")
        response = httpx.get(f"{proc.url}/readyz", timeout=10)
        assert response.status_code == 503
        assert response.json()["detail"] == NOT_AT_HEAD
        assert response.json()["status"] == "unavailable"
        assert asyncio.run(has_version_table(url, "inference")) is False  # it did not migrate
        result = owui_migrate(env, "inference")
        assert result.returncode == 0, result.stderr
        proc.wait_ready(timeout=60)
        assert httpx.get(f"{proc.url}/readyz", timeout=10).json()["status"] == "ready"
    finally:
        proc.stop()


def test_migrate_on_start_stays_the_default(tmp_path: Path) -> None:
    env = {"OWUI_DATA_DIR": str(tmp_path), "JWT_SECRET_KEY": SECRET}
    proc = start_service("inference", env, tmp_path / "logs", wait=False)
    try:
        proc.wait_ready(timeout=60)
        url = f"sqlite+aiosqlite:///{tmp_path / 'inference.db'}"
        assert asyncio.run(versions(url, ("inference",))) == {"inference": [head("inference")]}
    finally:
        proc.stop()
