"""`owui up --profile server` for real: the five services on PostgreSQL (a fresh database per
service, dropped after) and a supervised `chroma run`, one request through each service."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from owui.cli.server_stores import StoreError, service_database_urls
from owui.core.services import NAMES
from tests.conftest import bearer, signup
from tests.helpers_cli import UpStack, clean_env, free_ports, run_owui
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401


def test_database_per_service_from_database_url() -> None:
    urls = service_database_urls("postgresql+asyncpg://app:pw@db:5433/mine?ssl=require")
    assert urls["chat"] == "postgresql+asyncpg://app:pw@db:5433/mine_chat?ssl=require"
    assert service_database_urls("postgresql+asyncpg://postgres@h/postgres")["gateway"].endswith(
        "/owui_gateway")
    with pytest.raises(StoreError, match="needs DATABASE_URL=postgresql"):
        service_database_urls("sqlite+aiosqlite:///x.db")


def test_without_database_url_is_a_clear_error(tmp_path: Path) -> None:
    result = run_owui("up", "--profile", "server", "--data-dir", str(tmp_path),
                      env=clean_env(DATABASE_URL=""))
    assert result.returncode == 1
    assert "the server profile needs DATABASE_URL=postgresql+asyncpg://" in result.stderr


@pytest.fixture(scope="module")
def server_stack(tmp_path_factory: pytest.TempPathFactory,
                 postgres_server: PostgresServer,  # noqa: F811
                 ) -> Iterator[tuple[UpStack, list[str]]]:
    base = f"owui_t{uuid.uuid4().hex[:10]}"
    databases = [f"{base}_{name}" for name in NAMES]
    postgres_server.databases.extend(databases)  # dropped at the end of the session
    (chroma_port,) = free_ports(1)
    env = clean_env(DATABASE_URL=postgres_server.url(base), ENABLE_OLLAMA_API="false",
                    ENABLE_OPENAI_API="false", REDIS_URL="redis://127.0.0.1:6379/0")
    stack = UpStack.start(tmp_path_factory.mktemp("up-server"), "--profile", "server",
                          "--chroma-port", str(chroma_port), env=env)
    try:
        stack.wait_ready(timeout=180)
        yield stack, databases
    finally:
        stack.stop()
        for name in databases:
            postgres_server.drop_database(name)


def test_one_request_through_each_service(server_stack: tuple[UpStack, list[str]]) -> None:
    stack, _ = server_stack
    log = stack.log()
    assert "chroma" in log and "all 6 ready" in log
    gateway = stack.url("gateway")
    admin = signup(gateway)
    headers = bearer(admin["token"])
    assert signup(gateway)["role"] == "pending"  # the server profile's DEFAULT_USER_ROLE
    with httpx.Client(base_url=gateway, headers=headers, timeout=60) as client:
        assert client.get("/api/v1/inference/models").status_code == 200
        assert client.get("/api/v1/tools/").status_code == 200
        chat = client.post("/api/v1/chats/new", json={"chat": {"title": "on postgres"}})
        assert chat.status_code == 200, chat.text
        assert client.get(f"/api/v1/chats/{chat.json()['id']}").status_code == 200
        knowledge = client.post("/api/v1/knowledge/create",
                                json={"name": "docs", "description": "on chroma"})
        assert knowledge.status_code == 200, knowledge.text
        query = client.post("/api/v1/retrieval/query/collection", json={
            "collection_names": [knowledge.json()["id"]], "query": "anything"})
        assert query.status_code == 200, query.text


def test_each_service_has_its_own_database(server_stack: tuple[UpStack, list[str]],
                                           postgres_server: PostgresServer,  # noqa: F811
                                           ) -> None:
    import asyncio

    import asyncpg

    async def tables(database: str) -> set[str]:
        connection = await asyncpg.connect(postgres_server.dsn(database))
        try:
            rows = await connection.fetch("SELECT tablename FROM pg_tables "
                                          "WHERE tablename LIKE 'alembic_version_%'")
        finally:
            await connection.close()
        return {row["tablename"] for row in rows}

    _, databases = server_stack
    for service, database in zip(NAMES, databases, strict=True):
        assert asyncio.run(tables(database)) == {f"alembic_version_{service}"}
