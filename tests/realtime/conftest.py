"""The socket.io and 0.12-turn tests: a chat service alone (sockets, rooms, refusals), and all
five services with the fake provider and Redis (turns, and a second chat replica that hears
what the first emits), every process real."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from owui.core.tokens import issue_token
from tests.conftest import bearer, signup
from tests.support.fullstack import OPENAI_MODELS, FullStack, full_stack
from tests.support.procs import Proc, start_service

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Alone:
    """One chat service, no gateway: tokens are signed here with its key."""

    chat: Proc
    secret: str

    def token(self, user_id: str | None = None, role: str = "user",
              expires: timedelta = timedelta(hours=1)) -> str:
        return issue_token(self.secret, user_id or uuid.uuid4().hex, role, expires)[0]  # type: ignore[arg-type]

    def new_chat(self, token: str, title: str = "New Chat") -> str:
        response = httpx.post(f"{self.chat.url}/api/v1/chats/new", headers=bearer(token),
                              json={"chat": {"title": title}}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["id"]


@pytest.fixture(scope="package")
def alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alone]:
    secret = secrets.token_urlsafe(32)
    env = {"JWT_SECRET_KEY": secret, "OWUI_LOG_FORMAT": "text",
           "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("realtime-alone"))}
    proc = start_service("chat", env, tmp_path_factory.mktemp("realtime-logs"))
    try:
        yield Alone(proc, secret)
    finally:
        proc.stop()


@dataclass
class Stack:
    """All five services, the fakes, Redis on a channel of this run's own."""

    full: FullStack
    data_dir: Path
    log_dir: Path

    @property
    def gateway(self) -> str:
        return self.full.gateway

    @property
    def chat(self) -> str:
        return self.full.url("chat")

    @property
    def fakes(self) -> dict[str, str]:
        return {name: proc.url for name, proc in self.full.fakes.items()}


@dataclass
class Account:
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("realtime-data")
    log_dir = tmp_path_factory.mktemp("realtime-stack-logs")
    channel = f"owui-socketio-test-{uuid.uuid4().hex}"
    models = {"FAKE_MODELS": f"{OPENAI_MODELS};gpt-fake-slow"}  # slow: to stop mid-answer
    with full_stack(secrets.token_urlsafe(32), data_dir, log_dir, models, REDIS_URL=REDIS_URL,
                    WEBSOCKET_REDIS_CHANNEL=channel, OWUI_ACCESS_LOG="false") as full:
        yield Stack(full, data_dir, log_dir)


def _account(stack: Stack, name: str) -> Account:
    email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@realtime.test"
    answer = signup(stack.gateway, name=name, email=email)
    return Account(str(answer["id"]), str(answer["token"]))


@pytest.fixture(scope="package")
def ada(stack: Stack) -> Account:
    return _account(stack, "Ada")


@pytest.fixture(scope="package")
def bea(stack: Stack) -> Account:
    return _account(stack, "Bea")


@pytest.fixture(scope="package")
def second_chat(stack: Stack) -> Iterator[str]:
    """Another replica of the chat service, on the same database and Redis channel."""
    chat = stack.full.services["chat"]
    proc = start_service("chat", dict(chat.env), stack.log_dir)
    try:
        yield proc.url
    finally:
        proc.stop()
