"""Fixtures: real service processes on free ports, sharing one signing key."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.procs import Proc, start_fake, start_service

BACKENDS = ("inference", "retrieval", "chat", "agent")


@dataclass
class Stack:
    env: dict[str, str]
    services: dict[str, Proc]
    upstream: Proc  # stands in for the agent service
    log_dir: Path
    admin: dict[str, object]

    def url(self, name: str) -> str:
        return self.services[name].url


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[Stack]:
    log_dir = tmp_path_factory.mktemp("logs")
    data_dir = tmp_path_factory.mktemp("data")
    env = {"JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(data_dir),
           "OWUI_LOG_FORMAT": "text"}
    procs: dict[str, Proc] = {}
    try:
        upstream = start_fake("upstream", "agent-fake", env, log_dir)
        for name in BACKENDS:
            procs[name] = start_service(name, env, log_dir, wait=False)
        for proc in procs.values():
            proc.wait_ready()
        # The real agent service runs too (its own tests reach it directly), but the gateway
        # routes the agent's prefixes to the fake upstream that the proxy tests need.
        env = {**env, **{f"{n.upper()}_SERVICE_URL": p.url for n, p in procs.items()},
               "AGENT_SERVICE_URL": upstream.url}
        procs["gateway"] = start_service("gateway", {**env, "RATE_LIMIT": "100000/minute",
                                                     "SIGNIN_RATE_LIMIT": "100000/minute"},
                                         log_dir)
        # The first account becomes admin: make it before any test signs up.
        admin = signup(procs["gateway"].url, name="Admin", email="admin@localhost")
        yield Stack(env, procs, upstream, log_dir, admin)
    finally:
        for proc in procs.values():
            proc.stop()
        if "upstream" in locals():
            upstream.stop()


@pytest.fixture
def make_gateway(stack: Stack, tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """A gateway of its own (own database unless `data_dir` is given), with extra settings."""
    started: list[Proc] = []

    def make(data_dir: Path | None = None, wait: bool = True, **env: str) -> Proc:
        directory = data_dir or tmp_path / f"gw-{uuid.uuid4().hex[:8]}"
        proc = start_service("gateway", {**stack.env, "OWUI_DATA_DIR": str(directory), **env},
                             stack.log_dir, wait=wait)
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()


@pytest.fixture(scope="session")
def gateway(stack: Stack) -> str:
    return stack.url("gateway")


def signup(base: str, *, name: str = "User", email: str | None = None,
           password: str = "correct-horse") -> dict[str, object]:
    email = email or f"{uuid.uuid4().hex[:10]}@example.com"
    response = httpx.post(f"{base}/api/v1/auths/signup",
                          json={"name": name, "email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def admin(stack: Stack) -> dict[str, object]:
    """The first account on the shared gateway, hence its admin."""
    return stack.admin
