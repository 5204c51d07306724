"""The 0.12 web app's upload path (bench/retrieval.py, part 4): files into one collection as the
Knowledge page sends them, one after another, each `POST /api/v1/files/` with
`metadata.knowledge_id`, then its status stream (`/process/status?stream=true`) read to the end
before the next; through the gateway against straight to the retrieval service (same service,
same files, rounds alternated so that the machine's load falls on both alike)."""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from _common import Processes, bench_env, lifted_limits, progress


def _texts(count: int) -> list[str]:
    rng = random.Random(5)
    words = ("heron", "pond", "nest", "survey", "winter", "reed", "marsh", "count", "river")
    return ["\n\n".join(" ".join(rng.choice(words) for _ in range(60)) for _ in range(3))
            for _ in range(count)]


def _upload_one(client: httpx.Client, name: str, text: str, knowledge_id: str) -> None:
    answer = client.post("/api/v1/files/", files={"file": (name, text.encode())},
                         data={"metadata": json.dumps({"knowledge_id": knowledge_id})})
    answer.raise_for_status()
    file_id = answer.json()["id"]
    last: dict[str, Any] = {}
    with client.stream("GET", f"/api/v1/files/{file_id}/process/status",
                       params={"stream": "true"}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                last = json.loads(line[6:])
    if last.get("status") != "completed":
        raise RuntimeError(f"{name} ended {last}")


def _round(client: httpx.Client, texts: list[str], tag: str) -> float:
    """Files per second for one collection of len(texts) files."""
    knowledge = client.post("/api/v1/knowledge/create",
                            json={"name": f"bench {tag}", "description": ""})
    knowledge.raise_for_status()
    knowledge_id = knowledge.json()["id"]
    started = time.monotonic()
    for number, text in enumerate(texts):
        _upload_one(client, f"{tag}-{number}.txt", text, knowledge_id)
    seconds = time.monotonic() - started
    held = client.get(f"/api/v1/knowledge/{knowledge_id}/files").json()["total"]
    if held != len(texts):
        raise RuntimeError(f"the collection holds {held} of {len(texts)} files")
    return len(texts) / seconds


def bench_upload(procs: Processes, files: int, rounds: int, secret: str,
                 data_dir: Path) -> dict[str, Any]:
    env = {**bench_env(data_dir, secret), "OWUI_LOG_FORMAT": "text", "OWUI_ACCESS_LOG": "false",
           "RAG_EMBEDDING_MODEL_PRELOAD": "true"}
    retrieval = procs.serve("retrieval", env)
    retrieval.wait_ready(timeout=120)
    gateway = procs.serve("gateway", {**env, "OWUI_DATA_DIR": str(data_dir / "gateway"),
                                      "RETRIEVAL_SERVICE_URL": retrieval.url,
                                      **lifted_limits()})
    gateway.wait_ready(timeout=60)
    account = httpx.post(f"{gateway.url}/api/v1/auths/signup", json={
        "name": "Bench", "email": "bench@example.com", "password": "correct-horse"})
    account.raise_for_status()
    headers = {"Authorization": f"Bearer {account.json()['token']}"}
    texts = _texts(files)
    rates: dict[str, list[float]] = {"gateway": [], "direct": []}
    with httpx.Client(base_url=gateway.url, headers=headers, timeout=600) as via_gateway, \
            httpx.Client(base_url=retrieval.url, headers=headers, timeout=600) as direct:
        _wait_model(direct)
        _round(direct, texts[:5], "warm-up")
        for number in range(rounds):
            order = [("direct", direct), ("gateway", via_gateway)]
            for name, client in order if number % 2 == 0 else reversed(order):
                progress(f"upload round {number + 1}/{rounds}: {files} files, {name}")
                rates[name].append(_round(client, texts, f"{name}{number}"))
    return {"files": files, "rounds": rounds,
            **{name: statistics.median(values) for name, values in rates.items()},
            "all": rates}


def _wait_model(client: httpx.Client, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/api/v1/retrieval/").json()["embedding_state"] == "ready":
            return
        time.sleep(0.1)
    raise TimeoutError("the embedding model did not load")


def print_upload(found: dict[str, Any]) -> None:
    ratio = found["gateway"] / found["direct"]
    print(f"0.12 upload path, {found['files']} files into one collection, one at a time "
          f"(upload + status stream), median of {found['rounds']} rounds:")
    print(f"  straight to retrieval {found['direct']:6.2f} files/s  "
          f"(rounds: {', '.join(f'{r:.2f}' for r in found['all']['direct'])})")
    print(f"  through the gateway   {found['gateway']:6.2f} files/s  "
          f"(rounds: {', '.join(f'{r:.2f}' for r in found['all']['gateway'])})")
    print(f"  gateway / direct = {100 * ratio:.0f}% (target >= 90%)")
