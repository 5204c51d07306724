"""Two inference replicas on one PostgreSQL database: the environment seeds the connections
once, and what an admin changes on one replica reaches the other without a restart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.inference.conftest import Infra
from tests.support.procs import Proc, start_service


@pytest.fixture
def replicas(infra: Infra, jwt_secret: str, make_postgres_database: Callable[[], str],
             tmp_path: Path) -> Iterator[tuple[Proc, Proc]]:
    env = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text",
           "OWUI_DATA_DIR": str(tmp_path), "DATABASE_URL": make_postgres_database(),
           "ENABLE_OPENAI_API": "false"}
    first = start_service("inference", {**env, "OLLAMA_BASE_URLS": infra.fakes["ollama"].url},
                          infra.log_dir)
    # A later start with another environment: the stored set stays as it was.
    second = start_service("inference", {**env, "OLLAMA_BASE_URLS": infra.dead_url},
                           infra.log_dir)
    try:
        yield first, second
    finally:
        second.stop()
        first.stop()


def _poll(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the other replica did not catch up in time"
        time.sleep(0.25)


def test_replicas_share_connections_and_presets(infra: Infra,
                                                replicas: tuple[Proc, Proc]) -> None:
    first, second = replicas
    rows = httpx.get(f"{second.url}/api/v1/inference/connections", headers=infra.admin,
                     timeout=30).json()
    assert [r["url"] for r in rows] == [infra.fakes["ollama"].url]

    added = httpx.post(f"{first.url}/api/v1/inference/connections", headers=infra.admin,
                       timeout=30, json={"provider": "openai",
                                         "url": infra.fakes["openai-b"].url + "/v1"})
    assert added.status_code == 201
    preset_id = f"replicated-{uuid.uuid4().hex[:6]}"
    # Straight to the replica: no access header says the user may make models; an admin may.
    httpx.post(f"{first.url}/api/v1/models/create", headers=infra.admin, timeout=30, json={
        "id": preset_id, "base_model_id": "gpt-b-only", "name": "R", "meta": {},
        "params": {}}).raise_for_status()

    def second_serves_it() -> bool:
        answer = httpx.post(f"{second.url}/api/v1/inference/chat/completions", timeout=30,
                            headers=infra.admin, json={
                                "model": preset_id,
                                "messages": [{"role": "user", "content": "hi"}]})
        return answer.status_code == 200

    _poll(second_serves_it)
