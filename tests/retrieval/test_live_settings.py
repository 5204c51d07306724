"""The admin's Documents settings on two retrieval replicas sharing one database: a change
saved on one is what the other answers and uses within seconds, and the first values come
from the environment."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from owui.core.tokens import issue_token
from tests.support.procs import start_service


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory,
             jwt_secret: str) -> Iterator[list[httpx.Client]]:
    data = tmp_path_factory.mktemp("live-settings")
    logs = tmp_path_factory.mktemp("live-settings-logs")
    env = {"JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(data), "OWUI_LOG_FORMAT": "text",
           "VECTOR_DB": "lancedb", "CHUNK_SIZE": "120", "CHUNK_OVERLAP": "20", "RAG_TOP_K": "4"}
    first = start_service("retrieval", env, logs)
    second = start_service("retrieval", env, logs)  # migrated already: same database
    token, _ = issue_token(jwt_secret, "admin-1", "admin", timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.Client(base_url=p.url, headers=headers, timeout=60) for p in (first, second)]
    try:
        yield clients
    finally:
        for client in clients:
            client.close()
        second.stop()
        first.stop()


def test_a_change_on_one_replica_applies_on_the_other(replicas: list[httpx.Client]) -> None:
    one, other = replicas
    config = other.get("/api/v1/retrieval/config").json()
    assert (config["CHUNK_SIZE"], config["CHUNK_OVERLAP"], config["TOP_K"]) == (120, 20, 4)
    saved = one.post("/api/v1/retrieval/config/update",
                     json={"CHUNK_SIZE": 300, "TOP_K": 7, "web": {"WEB_SEARCH_RESULT_COUNT": 2}})
    assert saved.status_code == 200, saved.text
    deadline = time.monotonic() + 10
    while True:
        seen = other.get("/api/v1/retrieval/config").json()
        if seen["CHUNK_SIZE"] == 300:
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.2)
    assert seen["TOP_K"] == 7 and seen["web"]["WEB_SEARCH_RESULT_COUNT"] == 2
    status = other.get("/api/v1/retrieval/").json()  # what the replica runs with
    assert (status["chunk_size"], status["top_k"]) == (300, 7)
