"""What the retrieval service does with a CPU and 2 cores, in one run.

    .venv/bin/python bench/retrieval.py [--docs 40] [--corpus 100000] [--queries 200]

1. Ingestion: a few thousand chunks (synthetic documents, uploaded as files through the
   service's API, chunked, embedded and indexed by its background jobs) in chunks/s, against
   plain `model.encode` (batch 32) on the very same chunk texts in this process, first.
2. Query latency over a 100,000-chunk LanceDB collection, measured by a client over HTTP, so
   the query's embedding is included: p50 and p99 for vector, full-text (BM25) and hybrid
   (RRF). The corpus is synthetic sentences from a fixed vocabulary and seed; its vectors come
   from the same bundled all-MiniLM-L6-v2 and are cached in ~/.cache/owui/bench-retrieval
   (OWUI_BENCH_CACHE), so only the first run pays for embedding 100,000 texts. They are
   written into the service's LanceDB with the service's own store class, which builds the
   HNSW and full-text indexes, before the service is started on that data dir.
3. The service's resident memory: at start, once the model is loaded, and after the queries.

Loopback only; every process started here is stopped. The machine is shared: figures move
with its load (shown at the top).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import (
    Processes,
    bench_env,
    mint_token,
    progress,
    rss_bytes,
    stop_on_sigterm,
)

WORDS = (
    "river", "mountain", "engine", "winter", "garden", "library", "harbor", "signal", "copper",
    "forest", "orbit", "lantern", "market", "bridge", "island", "reactor", "protocol", "census",
    "ledger", "falcon", "glacier", "meadow", "compass", "turbine", "archive", "canyon",
    "vessel", "quarry", "beacon", "tundra", "citadel", "pylon", "estuary", "orchard", "prism",
    "ferry", "kiln", "mosaic", "nebula", "oasis", "plateau", "quartz", "relay", "summit",
    "timber", "valley", "wharf", "zenith", "battery", "circuit", "database", "kernel",
    "network", "router", "server", "socket", "thread", "buffer", "cache", "cluster", "policy",
    "budget", "contract", "invoice", "payroll", "audit", "revenue", "tariff", "pension",
    "mortgage", "dividend", "vaccine", "protein", "enzyme", "neuron", "tissue", "genome",
    "plasma", "sensor", "laser", "magnet", "photon", "crystal", "harvest", "drought", "monsoon",
    "erosion", "delta", "lagoon", "reef", "coral", "kelp", "urchin", "otter", "heron", "salmon",
    "violin", "chorus", "sonata", "ballad", "rhythm", "tempo", "lyric", "poem", "novel",
    "chapter", "author", "editor", "critic",
)
VERBS = (
    "measures", "stores", "protects", "follows", "explains", "carries", "builds", "tracks",
    "links", "feeds",
)
CACHE = Path(os.environ.get("OWUI_BENCH_CACHE", Path.home() / ".cache/owui/bench-retrieval"))


def sentence(rng: random.Random) -> str:
    a, b, c, d = (rng.choice(WORDS) for _ in range(4))
    return f"The {a} {rng.choice(VERBS)} the {b} near the {c} of {d} {rng.randint(1, 999)}."


def chunk_text(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def corpus(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [chunk_text(rng, 3) for _ in range(count)]


def queries(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))) for _ in range(count)]


def load_model(threads: int | None = None):
    from owui.retrieval.embeddings import load_model as load

    return load(threads)


def encode(model, texts: list[str], batch: int = 32) -> np.ndarray:
    return model.encode(texts, batch_size=batch, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False).astype(np.float32)


def corpus_vectors(texts: list[str]) -> tuple[np.ndarray, str]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"corpus-{len(texts)}-seed7-minilm-l6-v2.npy"
    if path.exists():
        return np.load(path), f"cached at {path}"
    progress(f"embedding {len(texts)} corpus chunks once (cached at {path})")
    model = load_model()
    started = time.monotonic()
    vectors = np.vstack([encode(model, texts[i:i + 2048], 64)
                         for i in range(0, len(texts), 2048)])
    seconds = time.monotonic() - started
    np.save(path, vectors)
    return vectors, f"computed now in {seconds:.0f} s, cached at {path}"


# the service


def service_env(data_dir: Path, secret: str) -> dict[str, str]:
    return {**bench_env(data_dir, secret), "OWUI_LOG_FORMAT": "text", "OWUI_ACCESS_LOG": "false",
            "RAG_EMBEDDING_MODEL_PRELOAD": "true", "RAG_FILE_MAX_SIZE": "100"}


def start(procs: Processes, env: dict[str, str]) -> tuple[object, float]:
    started = time.monotonic()
    proc = procs.serve("retrieval", env)
    proc.wait_ready(timeout=120)
    return proc, time.monotonic() - started


def wait_model(client: httpx.Client, timeout: float = 300) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        state = client.get("/api/v1/retrieval/").json()["embedding_state"]
        if state == "ready":
            return time.monotonic() - started
        if state.startswith("failed"):
            raise RuntimeError(state)
        time.sleep(0.1)
    raise TimeoutError("the embedding model did not load")


def documents(count: int) -> list[str]:
    rng = random.Random(3)
    return ["\n\n".join(chunk_text(rng, 5) for _ in range(170)) for _ in range(count)]


def bench_ingestion(procs: Processes, docs: int, size: int, secret: str) -> dict[str, Any]:
    from owui.retrieval.chunking import Chunker
    from owui.retrieval.extract import Section

    texts = documents(docs)
    overlap = size // 5
    chunker = Chunker(size, overlap)  # as the service is told below
    chunks = [c.text for t in texts for c in chunker.split([Section(t)])]
    plain = {}
    for threads in (1, torch_default_threads()):
        progress(f"plain model.encode on {len(chunks)} chunks, {threads} torch thread(s)")
        model = load_model(threads)
        encode(model, chunks[:64])
        started = time.monotonic()
        encode(model, chunks)
        plain[threads] = len(chunks) / (time.monotonic() - started)
        del model
        gc.collect()

    data_dir = Path(tempfile.mkdtemp(prefix="ingest-", dir=tempfile.tempdir))
    proc, _ = start(procs, {**service_env(data_dir, secret), "CHUNK_SIZE": str(size),
                            "CHUNK_OVERLAP": str(overlap)})
    headers = {"Authorization": f"Bearer {mint_token(secret)}"}
    with httpx.Client(base_url=proc.url, headers=headers, timeout=600) as client:
        wait_model(client)
        progress(f"ingesting {docs} documents through the service")
        started = time.monotonic()
        jobs = [client.post("/api/v1/files/", files={"file": (f"doc{i}.txt", text.encode())}
                            ).json()["job_id"] for i, text in enumerate(texts)]
        total = 0
        for job_id in jobs:
            while (job := client.get(f"/api/v1/retrieval/jobs/{job_id}").json())["status"] \
                    not in ("completed", "failed"):
                time.sleep(0.05)
            assert job["status"] == "completed", job
            total += job["total"]
        service = total / (time.monotonic() - started)
    proc.stop()
    return {"chunks": total, "plain": plain, "service": service}


def torch_default_threads() -> int:
    import torch

    return torch.get_num_threads()


def load_corpus(data_dir: Path, collection: str, texts: list[str],
                vectors: np.ndarray) -> float:
    from owui.retrieval.vectors.base import Record
    from owui.retrieval.vectors.lance import LanceStore

    async def run() -> float:
        store = LanceStore(data_dir / "vectors" / "lancedb", 20_000)
        await store.start()
        for start in range(0, len(texts), 10_000):
            records = [Record(uuid.uuid4().hex, collection, f"bench-{i // 100}", texts[i],
                              vectors[i], {"name": f"doc{i // 100}.txt", "source": "bench"})
                       for i in range(start, min(start + 10_000, len(texts)))]
            await store.add(records)
        began = time.monotonic()
        await store.maintain()  # HNSW + full-text + scalar indexes over the whole table
        return time.monotonic() - began

    return asyncio.run(run())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(client: httpx.Client, path: str, bodies: list[dict]) -> tuple[float, float]:
    for body in bodies[:10]:  # warm-up
        client.post(path, json=body).raise_for_status()
    latencies = []
    for body in bodies[10:]:
        started = time.perf_counter()
        response = client.post(path, json=body)
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(latencies), percentile(latencies, 99)


def bench_queries(procs: Processes, size: int, count: int, secret: str) -> dict[str, object]:
    texts = corpus(size)
    vectors, how = corpus_vectors(texts)
    data_dir = Path(tempfile.mkdtemp(prefix="query-", dir=tempfile.tempdir))
    env = service_env(data_dir, secret)
    headers = {"Authorization": f"Bearer {mint_token(secret)}"}
    # The default start (model and store load on first use): time to ready, idle memory.
    proc, ready = start(procs, {**env, "RAG_EMBEDDING_MODEL_PRELOAD": "false"})
    time.sleep(2)
    rss_idle = rss_bytes(proc.popen.pid)
    with httpx.Client(base_url=proc.url, headers=headers, timeout=120) as client:
        knowledge = client.post("/api/v1/knowledge/create",
                                json={"name": "bench", "description": ""}).json()["id"]
    proc.stop()
    progress(f"writing {size} chunks into LanceDB and building its indexes")
    index_seconds = load_corpus(data_dir, knowledge, texts, vectors)

    proc, _ = start(procs, env)
    result: dict[str, object] = {"how": how, "index_seconds": index_seconds, "ready": ready}
    with httpx.Client(base_url=proc.url, headers=headers, timeout=120) as client:
        result["model_load"] = wait_model(client)
        result["rss_start"], result["rss_model"] = rss_idle, rss_bytes(proc.popen.pid)
        asked = queries(count + 10)
        progress(f"{count} queries per mode over {size} chunks")
        base = {"collection_names": [knowledge], "k": 5}
        result["vector"] = timed(client, "/api/v1/retrieval/query/collection",
                                 [{**base, "query": q, "hybrid": False} for q in asked])
        result["text"] = timed(client, "/api/v1/retrieval/search",
                               [{**base, "query": q, "mode": "text"} for q in asked])
        result["hybrid"] = timed(client, "/api/v1/retrieval/query/collection",
                                 [{**base, "query": q, "hybrid": True} for q in asked])
        result["rss_end"] = rss_bytes(proc.popen.pid)
    proc.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=14, help="documents to ingest")
    parser.add_argument("--chunk-size", type=int, default=100, help="tokens per chunk")
    parser.add_argument("--corpus", type=int, default=100_000, help="chunks to query over")
    parser.add_argument("--queries", type=int, default=200, help="queries per mode")
    args = parser.parse_args()
    stop_on_sigterm()
    secret = mint_secret()
    load = os.getloadavg()
    work = tempfile.mkdtemp(prefix="owui-bench-retrieval-")
    tempfile.tempdir = work  # every data dir below it, all removed at the end
    try:
        with Processes(Path(work) / "logs") as procs:
            ingest = bench_ingestion(procs, args.docs, args.chunk_size, secret)
            found = bench_queries(procs, args.corpus, args.queries, secret)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mb = 1024 * 1024
    print(f"retrieval bench: {os.cpu_count()} cores, load average at start "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (a shared machine: figures are noisy)")
    print(f"ingestion, {ingest['chunks']} chunks ({args.chunk_size}-token chunks, batch 32):")
    for threads, rate in ingest["plain"].items():
        print(f"  plain model.encode, {threads} torch thread(s) {rate:8.1f} chunks/s")
    best = max(ingest["plain"].values())
    print(f"  service (upload to indexed, 1 thread) {ingest['service']:8.1f} chunks/s = "
          f"{100 * ingest['service'] / best:.0f}% of the faster plain (target >= 85%)")
    print(f"queries over {args.corpus} chunks, {args.queries} per mode, k=5, over HTTP, "
          "query embedding included:")
    targets = {"vector": 25, "text": None, "hybrid": 40}
    for mode in ("vector", "text", "hybrid"):
        p50, p99 = found[mode]  # type: ignore[misc]
        target = f"(target p50 <= {targets[mode]} ms)" if targets[mode] else ""
        print(f"  {mode:7s} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   {target}")
    print(f"  corpus vectors: {found['how']}; LanceDB indexes built in "
          f"{found['index_seconds']:.0f} s (full-text, scalar, and IVF_HNSW_SQ from 20,000 rows)")
    print(f"service: ready in {found['ready']:.2f} s (default: model loaded on first use); "
          f"with RAG_EMBEDDING_MODEL_PRELOAD, the model is ready {found['model_load']:.1f} s "
          "after that")
    print(f"  resident memory: {found['rss_start'] / mb:.0f} MB idle after start, "
          f"{found['rss_model'] / mb:.0f} MB with the model loaded, "
          f"{found['rss_end'] / mb:.0f} MB after the queries over {args.corpus} chunks")


def mint_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


if __name__ == "__main__":
    main()
