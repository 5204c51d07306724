"""Two inference replicas on one PostgreSQL database: a connection added through
`/openai/config/update`, a provider switched off, and a preset created on one replica apply on
the other within seconds (the live settings' revision marks), not at its next periodic read."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.inference.conftest import Infra
from tests.support.procs import Proc, start_service

# The live settings are read every second; what a replica does on a change takes a little more.
WITHIN = 4.0


@pytest.fixture
def replicas(infra: Infra, jwt_secret: str, make_postgres_database: Callable[[], str],
             tmp_path: Path) -> Iterator[tuple[Proc, Proc]]:
    env = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text",
           "OWUI_DATA_DIR": str(tmp_path), "DATABASE_URL": make_postgres_database(),
           "OLLAMA_BASE_URLS": infra.fakes["ollama"].url, "ENABLE_OPENAI_API": "false"}
    first = start_service("inference", env, infra.log_dir)
    second = start_service("inference", env, infra.log_dir)
    try:
        yield first, second
    finally:
        second.stop()
        first.stop()


def _ids(infra: Infra, replica: Proc) -> set[str]:
    answer = httpx.get(f"{replica.url}/api/models", headers=infra.user, timeout=30)
    return {m["id"] for m in answer.json()["data"]}


def _seconds_until(check: Callable[[], bool], limit: float = 30.0) -> float:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < limit, "the other replica did not catch up"
        time.sleep(0.1)
    return time.monotonic() - start


def test_a_change_on_one_replica_applies_on_the_other(infra: Infra,
                                                      replicas: tuple[Proc, Proc]) -> None:
    first, second = replicas
    assert "gpt-b-only" not in _ids(infra, second)
    time.sleep(6)  # past the periodic read (runtime.SYNC_AFTER): only the live marks can act
    _ids(infra, second)
    added = httpx.post(f"{first.url}/openai/config/update", headers=infra.admin, timeout=30,
                       json={"OPENAI_API_BASE_URLS": [infra.fakes["openai-b"].url + "/v1"],
                             "OPENAI_API_KEYS": [""], "OPENAI_API_CONFIGS": {}})
    assert added.status_code == 200, added.text
    took = _seconds_until(lambda: "gpt-b-only" in _ids(infra, second))
    print(f"connection added: the other replica lists its models after {took:.2f} s")
    assert took < WITHIN

    preset = f"replicated-{uuid.uuid4().hex[:6]}"
    # Straight to the replica: no access header says the user may make models; an admin may.
    httpx.post(f"{first.url}/api/v1/models/create", headers=infra.admin, timeout=30, json={
        "id": preset, "base_model_id": "gpt-b-only", "name": "R", "meta": {}, "params": {},
        "access_grants": [{"principal_type": "user", "principal_id": "*",
                           "permission": "read"}]}).raise_for_status()
    took = _seconds_until(lambda: preset in _ids(infra, second))
    print(f"preset created: the other replica lists it after {took:.2f} s")
    assert took < WITHIN

    httpx.post(f"{first.url}/openai/config/update", headers=infra.admin, timeout=30, json={
        "ENABLE_OPENAI_API": False, "OPENAI_API_BASE_URLS": [
            infra.fakes["openai-b"].url + "/v1"], "OPENAI_API_KEYS": [""],
        "OPENAI_API_CONFIGS": {}}).raise_for_status()
    took = _seconds_until(lambda: "gpt-b-only" not in _ids(infra, second))
    print(f"OpenAI switched off: the other replica drops its models after {took:.2f} s")
    assert took < WITHIN
    config = httpx.get(f"{second.url}/openai/config", headers=infra.admin, timeout=30).json()
    assert config["ENABLE_OPENAI_API"] is False
