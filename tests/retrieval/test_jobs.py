"""Ingestion jobs survive a crash: a job cut short by SIGKILL runs again at the next start
and ends with each chunk indexed once; progress streams as server-sent events."""

from __future__ import annotations

import json
import signal
import time
from datetime import timedelta
from pathlib import Path

import httpx

from owui.core.tokens import issue_token
from tests.conftest import bearer
from tests.retrieval.conftest import wait_processed
from tests.support.procs import start_service


def test_a_job_cut_by_a_crash_resumes_without_duplicates(tmp_path: Path, jwt_secret: str,
                                                         retrieval_logs: Path) -> None:
    env = {"JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(tmp_path),
           "OWUI_LOG_FORMAT": "text", "CHUNK_SIZE": "32", "CHUNK_OVERLAP": "0",
           "RAG_EMBEDDING_BATCH_SIZE": "4", "RAG_EMBEDDING_MODEL_PRELOAD": "true"}
    token, _ = issue_token(jwt_secret, "crash-user", "user", timedelta(hours=1))
    text = " ".join(f"Lighthouse {i} stands on rock number {i} by the sea." for i in range(180))
    proc = start_service("retrieval", env, retrieval_logs)
    try:
        with httpx.Client(base_url=proc.url, headers=bearer(token), timeout=60) as client:
            file = client.post("/api/v1/files/", files={"file": ("lights.txt", text.encode())})
            job_id = file.json()["job_id"]
            deadline = time.monotonic() + 120
            while client.get(f"/api/v1/retrieval/jobs/{job_id}").json()["done"] == 0:
                assert time.monotonic() < deadline, "the job never started embedding"
                time.sleep(0.05)
        proc.process.send_signal(signal.SIGKILL)
        proc.process.wait(10)
    finally:
        proc.stop()

    proc = start_service("retrieval", env, retrieval_logs)
    try:
        with httpx.Client(base_url=proc.url, headers=bearer(token), timeout=60) as client:
            status = wait_processed(client, file.json()["id"], timeout=180)
            assert status["status"] == "completed", status
            total = status["job"]["total"]
            hits = client.post("/api/v1/retrieval/search", json={
                "query": "lighthouse rock sea", "file_ids": [file.json()["id"]],
                "mode": "text", "k": 200}).json()["hits"]
            assert len(hits) == total and len({h["chunk_index"] for h in hits}) == total

            again = client.post("/api/v1/files/", files={"file": ("b.txt", b"Short text.")})
            with client.stream("GET", f"/api/v1/files/{again.json()['id']}/process/status",
                               params={"stream": True}) as events:
                seen = [json.loads(line[6:]) for line in events.iter_lines()
                        if line.startswith("data: ")]
            assert seen[-1]["status"] == "completed"
    finally:
        proc.stop()
