"""What the retrieval service does with a CPU and 2 cores, in one run.

    .venv/bin/python bench/retrieval.py [--docs 40] [--corpus 100000] [--queries 200]
        [--stores lancedb,chroma,qdrant,milvus] [--qdrant-url URL] [--milvus-uri URI]

1. Ingestion: a few thousand chunks (synthetic documents, uploaded as files through the
   service's API, chunked, embedded and indexed by its background jobs) in chunks/s, against
   plain `model.encode` (batch 32) on the very same chunk texts in this process, first.
2. The vector stores side by side on the same 100,000 chunks: how fast each takes them in
   (written with the service's own store class, then its upkeep: LanceDB builds its HNSW and
   full-text indexes, Milvus Lite seals its memtable), and query latency measured by a client
   over HTTP, so the query's embedding is included: p50 and p99 for vector, full-text (BM25)
   and hybrid (both fused: retrieval/vectors/fusion.py). The corpus is synthetic sentences from
   a fixed vocabulary and seed; its vectors come from the same bundled all-MiniLM-L6-v2 and are
   cached in ~/.cache/owui/bench-retrieval (OWUI_BENCH_CACHE), so only the first run pays for
   embedding 100,000 texts. Chroma is a `chroma run` started here. Qdrant and Milvus are
   servers given by --qdrant-url / --milvus-uri; without them, what runs here: Milvus Lite (a
   `.db` path), and qdrant-client's local mode, which commits each point to SQLite on its own
   and scans in Python, so it gets the first --qdrant-local-corpus chunks only and fewer
   queries, as Milvus Lite does (--embedded-queries): development engines, not the servers.
3. The service's resident memory (LanceDB): at start, once the model is loaded, and after the
   queries.
4. The 0.12 web app's upload path (--upload-files 100): files into one collection through the
   gateway as the app sends them (upload, then the status stream), against straight to the
   retrieval service, in files/s (bench/_knowledge_upload.py; --only-upload for this alone).

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
    free_port,
    mint_token,
    progress,
    rss_bytes,
    stop_on_sigterm,
)
from _knowledge_upload import bench_upload, print_upload

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
CORPUS_SIZE = 100_000
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

    return load(threads=threads)


def encode(model, texts: list[str], batch: int = 32) -> np.ndarray:
    """The service's own model object (ONNX Runtime, or sentence-transformers for another
    model): normalised float32 vectors."""
    return model.encode(texts, batch)


def vectors_path(size: int) -> Path:
    return CACHE / f"corpus-{size}-seed7-minilm-l6-v2.npy"


def corpus_vectors(texts: list[str]) -> tuple[np.ndarray, str]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = vectors_path(len(texts))
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
    for threads in (1, default_threads()):
        progress(f"plain model.encode on {len(chunks)} chunks, {threads} thread(s)")
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


def default_threads() -> int:
    return os.cpu_count() or 1


STORES = ("lancedb", "chroma", "qdrant", "milvus")


def store_env(store: str, data_dir: Path, args: argparse.Namespace,
              chroma_url: str | None) -> dict[str, str]:
    """The variables that point the service (and the loader) at a store."""
    if store == "chroma":
        return {"VECTOR_DB": "chroma", "CHROMA_HTTP_URL": str(chroma_url)}
    if store == "qdrant":
        return {"VECTOR_DB": "qdrant",
                "QDRANT_URL": args.qdrant_url or f"file:{data_dir / 'qdrant'}"}
    if store == "milvus":
        return {"VECTOR_DB": "milvus", "MILVUS_URI": args.milvus_uri or str(data_dir / "milvus.db")}
    return {"VECTOR_DB": "lancedb"}


def embedded(store: str, args: argparse.Namespace) -> bool:
    """A development engine in the service's process rather than a server."""
    return (store == "qdrant" and not args.qdrant_url) or (store == "milvus"
                                                          and not args.milvus_uri)


def load_corpus(env: dict[str, str], data_dir: str, collection: str, size: int,
                full: int) -> tuple[float, float]:
    """Write the corpus with the service's store class; seconds to write, and for upkeep.
    Runs in a process of its own, so that an embedded store's files and locks are let go
    before the service opens them."""
    from owui.core.config import Settings
    from owui.retrieval.vectors import create_store
    from owui.retrieval.vectors.base import Record

    texts = corpus(full)[:size]  # the same seed: a smaller corpus is the start of it
    vectors = np.load(vectors_path(full), mmap_mode="r")
    settings = Settings(**{key.lower(): value for key, value in env.items()},
                        owui_data_dir=Path(data_dir))

    async def run() -> tuple[float, float]:
        store = create_store(settings)
        await store.start()
        began = time.monotonic()
        for start in range(0, size, 5_000):
            await store.add([Record(uuid.uuid4().hex, collection, f"bench-{i // 100}", texts[i],
                                    np.asarray(vectors[i]),
                                    {"name": f"doc{i // 100}.txt", "source": "bench"})
                             for i in range(start, min(start + 5_000, size))])
        written = time.monotonic() - began
        began = time.monotonic()
        await store.maintain()  # LanceDB: HNSW + full-text + scalar indexes; Milvus Lite: flush
        upkeep = time.monotonic() - began
        await store.close()
        return written, upkeep

    return asyncio.run(run())


def load_elsewhere(env: dict[str, str], data_dir: Path, collection: str, size: int,
                   full: int) -> tuple[float, float]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(load_corpus, env, str(data_dir), collection, size, full).result()


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


def bench_queries(procs: Processes, args: argparse.Namespace, secret: str) -> dict[str, Any]:
    """Every store on the same corpus; the first (LanceDB) also gives start time and memory."""
    if not vectors_path(args.corpus).exists():
        corpus_vectors(corpus(args.corpus))
    results: dict[str, Any] = {}
    chroma_url = None
    for store in args.stores:
        if store == "chroma" and chroma_url is None:
            chroma_url = start_chroma(procs)
        results[store] = bench_store(procs, store, args, secret, chroma_url)
    return results


def start_chroma(procs: Processes) -> str:
    program = Path(sys.executable).parent / "chroma"
    path = Path(tempfile.mkdtemp(prefix="chroma-", dir=tempfile.tempdir))
    port = free_port()
    proc = procs.start("chroma", [str(program), "run", "--path", str(path), "--host", "127.0.0.1",
                                  "--port", str(port)], {}, port)
    proc.wait_ready("/api/v2/heartbeat", timeout=120)
    return proc.url


def bench_store(procs: Processes, store: str, args: argparse.Namespace, secret: str,
                chroma_url: str | None) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"query-{store}-", dir=tempfile.tempdir))
    chosen = store_env(store, data_dir, args, chroma_url)
    env = {**service_env(data_dir, secret), **chosen}
    # Straight at retrieval, only an admin makes a collection (no gateway to vouch for the
    # user's `workspace.knowledge`).
    headers = {"Authorization": f"Bearer {mint_token(secret, role='admin')}"}
    size = args.corpus
    if store == "qdrant" and not args.qdrant_url:
        size = min(size, args.qdrant_local_corpus)
    count = args.embedded_queries if embedded(store, args) else args.queries
    # The default start (model and store load on first use): time to ready, idle memory.
    proc, ready = start(procs, {**env, "RAG_EMBEDDING_MODEL_PRELOAD": "false"})
    time.sleep(2)
    result: dict[str, Any] = {"ready": ready, "rss_start": rss_bytes(proc.popen.pid),
                              "chunks": size, "queries": count}
    with httpx.Client(base_url=proc.url, headers=headers, timeout=120) as client:
        knowledge = client.post("/api/v1/knowledge/create",
                                json={"name": "bench", "description": ""}).json()["id"]
    proc.stop()
    progress(f"{store}: writing {size} chunks and running its upkeep")
    written, result["upkeep"] = load_elsewhere(chosen, data_dir, knowledge, size, args.corpus)
    result["ingest"] = size / written

    proc, _ = start(procs, env)
    with httpx.Client(base_url=proc.url, headers=headers, timeout=300) as client:
        result["model_load"] = wait_model(client)
        result["rss_model"] = rss_bytes(proc.popen.pid)
        asked = queries(count + 10)
        progress(f"{store}: {count} queries per mode over {size} chunks")
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


STORE_LABELS = {"lancedb": "LanceDB (embedded)", "chroma": "Chroma (chroma run)",
                "qdrant": "Qdrant", "milvus": "Milvus"}


def label(store: str, args: argparse.Namespace) -> str:
    if store == "qdrant" and not args.qdrant_url:
        return "Qdrant (client local mode)"
    if store == "milvus" and not args.milvus_uri:
        return "Milvus (Milvus Lite)"
    return STORE_LABELS[store]


def print_queries(found: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"vector stores on the same corpus ({args.corpus} chunks unless said), k=5, queries "
          "over HTTP with the query's embedding; latency p50 / p99 in ms:")
    print(f"  {'store':27s} {'chunks':>7s} {'write/s':>8s} {'upkeep':>7s} {'queries':>7s}  "
          f"{'vector':>15s}  {'text (BM25)':>15s}  {'hybrid':>15s}")
    for store, row in found.items():
        cells = "  ".join(f"{row[mode][0]:7.1f} /{row[mode][1]:7.1f}"
                          for mode in ("vector", "text", "hybrid"))
        print(f"  {label(store, args):27s} {row['chunks']:7d} {row['ingest']:8.0f} "
              f"{row['upkeep']:6.0f}s {row['queries']:7d}  {cells}")
    print("  (write/s: chunks with their vectors written by the store class in batches of 5,000;"
          " upkeep: LanceDB's HNSW, full-text and scalar indexes, Milvus Lite's flush)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=14,
                        help="documents to ingest (0: no ingestion part)")
    parser.add_argument("--chunk-size", type=int, default=100, help="tokens per chunk")
    parser.add_argument("--corpus", type=int, default=CORPUS_SIZE, help="chunks to query over")
    parser.add_argument("--queries", type=int, default=200, help="queries per mode")
    parser.add_argument("--stores", type=lambda text: text.split(","), default=list(STORES),
                        help="comma-separated, of " + ",".join(STORES))
    parser.add_argument("--qdrant-url", help="a Qdrant server (default: the client's local mode)")
    parser.add_argument("--milvus-uri", help="a Milvus server (default: Milvus Lite)")
    parser.add_argument("--qdrant-local-corpus", type=int, default=10_000,
                        help="chunks for Qdrant's local mode")
    parser.add_argument("--embedded-queries", type=int, default=20,
                        help="queries per mode on Qdrant's local mode and Milvus Lite")
    parser.add_argument("--upload-files", type=int, default=100,
                        help="files of the 0.12 upload path (0: no upload part)")
    parser.add_argument("--upload-rounds", type=int, default=3,
                        help="rounds of the upload path, each way")
    parser.add_argument("--only-upload", action="store_true",
                        help="the upload path alone (no ingestion, no stores)")
    args = parser.parse_args()
    if unknown := set(args.stores) - set(STORES):
        parser.error(f"unknown store(s) {', '.join(sorted(unknown))}; use {', '.join(STORES)}")
    stop_on_sigterm()
    secret = mint_secret()
    load = os.getloadavg()
    work = tempfile.mkdtemp(prefix="owui-bench-retrieval-")
    tempfile.tempdir = work  # every data dir below it, all removed at the end
    try:
        with Processes(Path(work) / "logs") as procs:
            upload = bench_upload(procs, args.upload_files, args.upload_rounds, secret,
                                  Path(tempfile.mkdtemp(prefix="upload-"))) \
                if args.upload_files else None
            ingest = bench_ingestion(procs, args.docs, args.chunk_size, secret) \
                if args.docs and not args.only_upload else None
            found = None if args.only_upload else bench_queries(procs, args, secret)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mb = 1024 * 1024
    print(f"retrieval bench: {os.cpu_count()} cores, load average at start "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (a shared machine: figures are noisy)")
    if ingest is not None:
        print(f"ingestion, {ingest['chunks']} chunks ({args.chunk_size}-token chunks, batch 32):")
        for threads, rate in ingest["plain"].items():
            print(f"  plain model.encode, {threads} thread(s) {rate:8.1f} chunks/s")
        best = max(ingest["plain"].values())
        from owui.core.config import Settings

        field = Settings.model_fields["rag_embedding_threads"]  # the service's default
        threads = field.get_default(call_default_factory=True)
        print(f"  service (upload to indexed, {threads} thread(s)) "
              f"{ingest['service']:8.1f} chunks/s = {100 * ingest['service'] / best:.0f}% "
              "of the faster plain (target >= 85%)")
    if upload is not None:
        print_upload(upload)
    if found is None:
        return
    print_queries(found, args)
    first = found[args.stores[0]]
    print(f"service ({label(args.stores[0], args)}): ready in {first['ready']:.2f} s (default: "
          f"model loaded on first use); with RAG_EMBEDDING_MODEL_PRELOAD, the model is ready "
          f"{first['model_load']:.1f} s after that")
    print(f"  resident memory: {first['rss_start'] / mb:.0f} MB idle after start, "
          f"{first['rss_model'] / mb:.0f} MB with the model loaded, "
          f"{first['rss_end'] / mb:.0f} MB after the queries over {first['chunks']} chunks")


def mint_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


if __name__ == "__main__":
    main()
