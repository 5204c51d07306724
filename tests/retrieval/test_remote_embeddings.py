"""EMBEDDING_ENGINE=openai: embeddings come from the inference service (real), which calls an
OpenAI-compatible provider (the fake), on behalf of the user whose token the request had."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from owui.core.tokens import issue_token
from tests.conftest import bearer
from tests.retrieval.conftest import wait_processed
from tests.support.procs import Proc, start_fake, start_service


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str,
           retrieval_logs: Path) -> Iterator[tuple[Proc, Proc]]:
    started: list[Proc] = []
    try:
        provider = start_fake("openai", "openai-embeddings", {}, retrieval_logs)
        started.append(provider)
        base = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text"}
        inference = start_service("inference", {
            **base, "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("remote-inference")),
            "ENABLE_OLLAMA_API": "false", "OPENAI_API_BASE_URLS": f"{provider.url}/v1"},
            retrieval_logs)
        started.append(inference)
        retrieval = start_service("retrieval", {
            **base, "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("remote-retrieval")),
            "EMBEDDING_ENGINE": "openai", "EMBEDDING_MODEL": "text-embedding-fake",
            "INFERENCE_SERVICE_URL": inference.url}, retrieval_logs)
        started.append(retrieval)
        yield provider, retrieval
    finally:
        for proc in reversed(started):
            proc.stop()


def test_ingest_and_query_through_the_inference_service(remote: tuple[Proc, Proc],
                                                        jwt_secret: str) -> None:
    provider, retrieval = remote
    token, _ = issue_token(jwt_secret, "remote-user", "user", timedelta(hours=1))
    with httpx.Client(base_url=retrieval.url, headers=bearer(token), timeout=60) as client:
        status = client.get("/api/v1/retrieval/").json()
        assert status["embedding_engine"] == "openai"
        assert status["embedding_model"] == "text-embedding-fake"
        file = client.post("/api/v1/files/", files={"file": ("a.txt", b"Remote vectors.")})
        assert file.status_code == 200, file.text
        assert wait_processed(client, file.json()["id"])["status"] == "completed"
        found = client.post("/api/v1/retrieval/query/doc", json={
            "collection_name": f"file-{file.json()['id']}", "query": "vectors"})
        assert found.status_code == 200 and found.json()["documents"][0] == ["Remote vectors."]
    assert httpx.get(f"{provider.url}/stats").json()["embeddings"] >= 2
