"""The socket.io and 0.12-turn tests: a chat service alone (sockets, rooms, refusals), and all
five services with the fake provider and Redis (turns, and a second chat replica that hears
what the first emits), every process real."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from owui.core.tokens import issue_token
from tests.conftest import bearer
from tests.support.procs import Proc, start_service


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


@pytest.fixture(scope="session")
def alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alone]:
    secret = secrets.token_urlsafe(32)
    env = {"JWT_SECRET_KEY": secret, "OWUI_LOG_FORMAT": "text",
           "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("realtime-alone"))}
    proc = start_service("chat", env, tmp_path_factory.mktemp("realtime-logs"))
    try:
        yield Alone(proc, secret)
    finally:
        proc.stop()
