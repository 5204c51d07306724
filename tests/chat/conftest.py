"""The chat suite runs twice: on SQLite and on PostgreSQL.

Each run starts a chat service process on its database and a gateway in front of it, and signs
up three accounts there: the admin (first), Alice and Bob, who must not see each other's data.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from owui.core.tokens import issue_token
from tests.conftest import bearer, signup
from tests.support.postgres import (  # noqa: F401 (fixtures)
    make_postgres_database,
    postgres_server,
    run_async,
)
from tests.support.procs import Proc, start_service

TIMEOUT = httpx.Timeout(60.0)


@dataclass
class User:
    id: str
    token: str
    base: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    def client(self, base: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=base or self.base, headers=self.headers, timeout=TIMEOUT)

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, headers=self.headers, timeout=TIMEOUT)


@dataclass
class Backend:
    name: str  # "sqlite" or "postgresql"
    chat: Proc
    gateway: Proc
    database: str  # the SQLite file, or the PostgreSQL DSN
    admin: User
    alice: User
    bob: User
    secret: str

    def new_user(self) -> User:
        """An account of its own, by token alone: services trust a signed token's claims."""
        user_id = str(uuid.uuid4())
        token, _ = issue_token(self.secret, user_id, "user", timedelta(hours=1))
        return User(user_id, token, self.gateway.url)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the chat service's own database (`?` placeholders on both)."""
        if self.name == "sqlite":
            with sqlite3.connect(self.database) as connection:
                return connection.execute(sql, params).fetchall()
        return run_async(_fetch(self.database, sql, params))


async def _fetch(dsn: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    import asyncpg

    numbers = itertools.count(1)
    numbered = re.sub(r"\?", lambda _match: f"${next(numbers)}", sql)
    connection = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await connection.fetch(numbered, *params)]
    finally:
        await connection.close()


def _user(account: dict[str, object], base: str) -> User:
    return User(str(account["id"]), str(account["token"]), base)


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, jwt_secret: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    root = tmp_path_factory.mktemp(f"chat-{request.param}")
    env = {"JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(root / "chat"),
           "OWUI_LOG_FORMAT": "text"}
    database = str(root / "chat" / "chat.db")
    if request.param == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("make_postgres_database")()
        database = env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    chat = start_service("chat", env, root / "logs", wait=False)
    gateway = start_service("gateway", {
        "JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(root / "gateway"),
        "OWUI_LOG_FORMAT": "text", "CHAT_SERVICE_URL": chat.url,
        "RATE_LIMIT": "100000/minute", "SIGNIN_RATE_LIMIT": "100000/minute",
    }, root / "logs", wait=False)
    try:
        chat.wait_ready(timeout=90)
        gateway.wait_ready(timeout=90)
        base = gateway.url
        admin = _user(signup(base, name="Admin", email=f"admin-{uuid.uuid4().hex[:6]}@x.io"), base)
        alice = _user(signup(base, name="Alice"), base)
        bob = _user(signup(base, name="Bob"), base)
        yield Backend(request.param, chat, gateway, database, admin, alice, bob, jwt_secret)
    finally:
        gateway.stop()
        chat.stop()


@pytest.fixture
def alice(backend: Backend) -> Iterator[httpx.Client]:
    with backend.alice.client() as client:
        yield client


@pytest.fixture
def bob(backend: Backend) -> Iterator[httpx.Client]:
    with backend.bob.client() as client:
        yield client


@pytest.fixture
def fresh(backend: Backend) -> Iterator[httpx.Client]:
    """A client for an account of its own: lists hold only what the test made."""
    with backend.new_user().client() as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    return response.json()


def sample_chat(title: str = "A chat", *, text: str = "hello") -> dict[str, Any]:
    """An Open WebUI chat object with an edit (two user branches) and a regeneration."""
    return {
        "id": "", "title": title, "models": ["llama3:8b"], "params": {"temperature": 0.4},
        "files": [], "tags": [], "timestamp": 1_700_000_000_000,
        "history": {"currentId": "a2", "messages": {
            "u1": {"id": "u1", "parentId": None, "childrenIds": ["a1"], "role": "user",
                   "content": f"{text} first", "timestamp": 1_700_000_000,
                   "models": ["llama3:8b"]},
            "a1": {"id": "a1", "parentId": "u1", "childrenIds": ["u2", "u3"],
                   "role": "assistant", "content": "an answer", "model": "llama3:8b",
                   "modelName": "Llama 3", "modelIdx": 0, "timestamp": 1_700_000_001,
                   "done": True, "info": {"eval_count": 12}, "sources": []},
            "u2": {"id": "u2", "parentId": "a1", "childrenIds": ["a2", "a3"], "role": "user",
                   "content": "follow-up edited", "timestamp": 1_700_000_002,
                   "models": ["llama3:8b"]},
            "u3": {"id": "u3", "parentId": "a1", "childrenIds": [], "role": "user",
                   "content": "follow-up original", "timestamp": 1_700_000_003,
                   "models": ["llama3:8b"]},
            "a2": {"id": "a2", "parentId": "u2", "childrenIds": [], "role": "assistant",
                   "content": "regenerated", "model": "llama3:8b", "timestamp": 1_700_000_004,
                   "done": True, "annotation": {"rating": 1}},
            "a3": {"id": "a3", "parentId": "u2", "childrenIds": [], "role": "assistant",
                   "content": "first try", "model": "llama3:8b", "timestamp": 1_700_000_005,
                   "done": True, "error": {"content": "cut off"}},
        }},
        "messages": [],
    }


def create(client: httpx.Client, chat: dict[str, Any] | None = None, **form: Any
           ) -> dict[str, Any]:
    return ok(client.post("/api/v1/chats/new", json={"chat": chat or sample_chat(), **form}))


def log_tail(proc: Proc) -> str:
    return Path(proc.log_path).read_text(errors="replace")[-3000:]
