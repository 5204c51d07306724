"""SIGKILL the retrieval service while it ingests a file that a client is adding to a
knowledge collection: after the restart the job has resumed (or failed), and the collection
holds whole files only: each file it lists with all of its chunks, once, and no chunk of a
file it does not list. Adding the file again then completes the collection."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from owui.core.tokens import issue_token
from tests.conftest import bearer
from tests.retrieval.conftest import wait_processed
from tests.support.permissions import access_header
from tests.support.procs import Proc, start_service

ENV = {"OWUI_LOG_FORMAT": "text", "CHUNK_SIZE": "32", "CHUNK_OVERLAP": "0",
       "RAG_EMBEDDING_BATCH_SIZE": "4", "RAG_EMBEDDING_MODEL_PRELOAD": "true"}
SMALL = " ".join(f"Harbour note {i}: the ferry leaves pier {i} at dawn." for i in range(6))
LARGE = " ".join(f"Lighthouse {i} stands on rock number {i} by the sea." for i in range(120))


def start(env: dict[str, str], log_dir: Path, port: int | None = None) -> Proc:
    return start_service("retrieval", env, log_dir, port=port)


def chunks_in(client: httpx.Client, collection: str) -> Counter[tuple[str, int]]:
    """(file id, chunk index) of every row in a collection, counted."""
    response = client.post("/api/v1/retrieval/search", json={
        "query": "lighthouse ferry pier rock sea", "collection_names": [collection],
        "mode": "text", "k": 200})
    assert response.status_code == 200, response.text
    return Counter((hit["file_id"], hit["chunk_index"]) for hit in response.json()["hits"])


def listed_files(client: httpx.Client, knowledge_id: str) -> set[str]:
    return {f["id"] for f in client.get(f"/api/v1/knowledge/{knowledge_id}").json()["files"]}


def assert_whole_files(client: httpx.Client, knowledge_id: str, totals: dict[str, int]) -> None:
    rows = chunks_in(client, knowledge_id)
    assert [key for key, count in rows.items() if count > 1] == [], "a chunk stored twice"
    per_file = Counter(file_id for file_id, _ in rows)
    listed = listed_files(client, knowledge_id)
    assert dict(per_file) == {file_id: totals[file_id] for file_id in listed}, (
        f"collection rows per file {dict(per_file)}, files listed {listed}, totals {totals}")


def add_to_knowledge(client: httpx.Client, knowledge_id: str, file_id: str) -> httpx.Response:
    return client.post(f"/api/v1/knowledge/{knowledge_id}/file/add", json={"file_id": file_id})


def wait_embedding_started(client: httpx.Client, file_id: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"/api/v1/files/{file_id}/process/status").json().get("job") or {}
        if (job.get("done") or 0) > 0:
            return
        assert time.monotonic() < deadline, f"ingestion never started embedding: {job}"
        time.sleep(0.05)


def test_kill_during_an_ingestion_into_a_collection(tmp_path: Path, jwt_secret: str) -> None:
    env = {**ENV, "JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(tmp_path / "data")}
    token, _ = issue_token(jwt_secret, "fault-user", "user", timedelta(hours=1))
    proc = start(env, tmp_path / "logs")
    outcome: dict[str, Any] = {}
    try:
        # Straight at retrieval: the header the gateway adds lets the user make a collection.
        headers = {**bearer(token), **access_header(jwt_secret, "fault-user",
                                                     "workspace.knowledge")}
        with httpx.Client(base_url=proc.url, headers=headers, timeout=120) as client:
            knowledge_id = client.post("/api/v1/knowledge/create", json={
                "name": "harbour", "description": "notes"}).json()["id"]
            small = client.post("/api/v1/files/", files={"file": ("a.txt", SMALL.encode())})
            small_id = small.json()["id"]
            small_status = wait_processed(client, small_id)
            assert small_status["status"] == "completed", small_status
            assert add_to_knowledge(client, knowledge_id, small_id).status_code == 200
            large = client.post("/api/v1/files/", params={"process": False},
                                files={"file": ("b.txt", LARGE.encode())})
            large_id = large.json()["id"]

            def add_large() -> None:  # processes the stored file, then adds it: cut short
                try:
                    outcome["response"] = add_to_knowledge(client, knowledge_id, large_id)
                except httpx.TransportError as exc:
                    outcome["error"] = exc

            adding = threading.Thread(target=add_large)
            adding.start()
            wait_embedding_started(client, large_id)
            proc.process.send_signal(signal.SIGKILL)
            proc.process.wait(10)
            adding.join(30)
        assert "error" in outcome, f"the add finished before the kill: {outcome}"
    finally:
        proc.stop()

    proc = start(env, tmp_path / "logs", port=proc.port)
    try:
        with httpx.Client(base_url=proc.url, headers=bearer(token), timeout=120) as client:
            status = wait_processed(client, large_id, timeout=180)
            assert status["status"] in ("completed", "failed"), status
            totals = {small_id: small_status["job"]["total"], large_id: status["job"]["total"]}
            assert_whole_files(client, knowledge_id, totals)
            assert listed_files(client, knowledge_id) == {small_id}

            if status["status"] == "completed":  # resumed: the client's retry completes it
                assert add_to_knowledge(client, knowledge_id, large_id).status_code == 200
                assert_whole_files(client, knowledge_id, totals)
                assert listed_files(client, knowledge_id) == {small_id, large_id}
    finally:
        proc.stop()
