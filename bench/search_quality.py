"""Search quality: vector, full text and hybrid search on real text, per vector store.

    .venv/bin/python bench/search_quality.py [--stores lancedb,chroma,qdrant,milvus] [-k 10]

The corpus is the long description (README) that ships in the installed `*.dist-info/METADATA`
of sixteen packages of this project's environment (PACKAGES below, versions printed): real
prose that no one here wrote, mixing explanation with identifiers, options, numbers and code,
which is what people search in a knowledge base of technical documents. About a thousand
chunks, cut by the service's own Chunker (CHUNK_SIZE / CHUNK_OVERLAP defaults) and embedded by
its own embedder. Eight of the packages have questions; the other eight are there to compete.

The questions (bench/data/search_quality_questions.json) were written for this corpus: each
is "paraphrase" (said in other words than the text) or "exact" (the words matter: an
identifier, a number, a flag). Each names the passage(s) that answer it; a chunk is relevant
when it holds one of them (checked at start: every passage must be in some chunk). They are
split in two halves by position: even ones to tune on, odd ones held out.

Per store and mode, through the service's own search code (owui.retrieval.search.search, the
store class the service builds): MRR@10 (1/rank of the first relevant chunk) and recall@5
(the share of a question's passages found in the first five), and the p50 latency of a search
(the query's embedding included). Chroma is a `chroma run` started here; Qdrant is the client's
local mode and Milvus is Milvus Lite (files under a temporary directory).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from importlib.metadata import distribution
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _common import Processes, progress, stop_on_sigterm

QUESTIONS = Path(__file__).resolve().parent / "data" / "search_quality_questions.json"
# Packages with questions first; the rest compete for the same words (JSON, options, tests).
PACKAGES = ("orjson", "tqdm", "python-dotenv", "pytest-timeout", "threadpoolctl", "psutil",
            "charset-normalizer", "pyrate-limiter", "redis", "rich", "typer", "responses",
            "regex", "httpcore", "fastapi", "pypika")
STORES = ("lancedb", "chroma", "qdrant", "milvus")
MODES = ("vector", "text", "hybrid")
COLLECTION = "quality"


@dataclass
class Chunk:
    id: str
    package: str
    text: str


@dataclass
class Question:
    number: int
    text: str
    kind: str
    answers: list[str]
    relevant: list[set[str]]  # per answer, the ids of chunks holding it

    @property
    def half(self) -> str:
        return "tune" if self.number % 2 == 0 else "held-out"


def load_corpus() -> tuple[list[Chunk], dict[str, str]]:
    from owui.core.config import Settings
    from owui.retrieval.chunking import Chunker
    from owui.retrieval.extract import Section

    defaults = Settings.model_fields
    chunker = Chunker(defaults["chunk_size"].default, defaults["chunk_overlap"].default)
    chunks: list[Chunk] = []
    versions: dict[str, str] = {}
    for package in PACKAGES:
        dist = distribution(package)
        versions[package] = dist.version
        body = dist.metadata.get_payload() or ""  # the long description
        for index, piece in enumerate(chunker.split([Section(body, {"name": package})])):
            chunks.append(Chunk(f"{package}#{index}", package, piece.text))
    return chunks, versions


def load_questions(chunks: list[Chunk]) -> list[Question]:
    questions = []
    for number, raw in enumerate(json.loads(QUESTIONS.read_text())):
        relevant = [{chunk.id for chunk in chunks if answer in chunk.text}
                    for answer in raw["answers"]]
        missing = [a for a, ids in zip(raw["answers"], relevant, strict=True) if not ids]
        if missing:
            raise SystemExit(f"question {number} ({raw['q']!r}): no chunk holds {missing}; "
                             "has a package's version changed?")
        questions.append(Question(number, raw["q"], raw["kind"], raw["answers"], relevant))
    return questions


def settings_for(store: str, data_dir: Path, chroma_url: str | None) -> Any:
    from owui.core.config import Settings

    chosen: dict[str, Any] = {"vector_db": store, "owui_data_dir": data_dir}
    if store == "chroma":
        chosen["chroma_http_url"] = chroma_url
    elif store == "qdrant":
        chosen["qdrant_url"] = f"file:{data_dir / 'qdrant'}"
    elif store == "milvus":
        chosen["milvus_uri"] = str(data_dir / "milvus.db")
    return Settings(**chosen)


async def embed_corpus(chunks: list[Chunk]) -> Any:
    from owui.core.config import Settings
    from owui.retrieval.clients.inference import InferenceClient
    from owui.retrieval.embeddings import create_embedder

    settings = Settings()
    embedder = create_embedder(settings, InferenceClient(settings))
    vectors = await embedder.embed([chunk.text for chunk in chunks])
    return embedder, vectors


async def evaluate_store(store_name: str, settings: Any, embedder: Any, chunks: list[Chunk],
                         vectors: Any, questions: list[Question], k: int,
                         sweep: bool = False) -> dict[str, Any]:
    from owui.retrieval import search as service_search
    from owui.retrieval.vectors import Record, create_store

    store = create_store(settings)
    await store.start()
    records = [Record(chunk.id, COLLECTION, chunk.package, chunk.text, vectors[i],
                      {"name": chunk.package})
               for i, chunk in enumerate(chunks)]
    for start in range(0, len(records), 500):
        await store.add(records[start:start + 500])
    await store.maintain()
    # The service's own search: the Runtime parts it reads are these three.
    runtime = SimpleNamespace(settings=settings, embedder=embedder, store=store)
    found: dict[str, Any] = {}
    try:
        for question in questions[:3]:  # warm-up
            for mode in MODES:
                await service_search.search(runtime, [COLLECTION], question.text, k=k, r=0.0,
                                            mode=mode)
        ranked: dict[str, list[list[str]]] = {mode: [] for mode in MODES}
        latencies: dict[str, list[float]] = {mode: [] for mode in MODES}
        for question in questions:  # the modes in turn per question: a busy moment hits all
            for mode in MODES:
                started = time.perf_counter()
                hits = await service_search.search(runtime, [COLLECTION], question.text, k=k,
                                                   r=0.0, mode=mode)
                latencies[mode].append((time.perf_counter() - started) * 1000)
                ranked[mode].append([hit.id for hit in hits])
        for mode in MODES:
            found[mode] = {"ranked": ranked[mode], "p50": statistics.median(latencies[mode])}
        if sweep:
            found["lists"] = [
                (await store.vector_search([COLLECTION], await embedder.embed_query(q.text),
                                           SWEEP_DEPTH),
                 await store.text_search([COLLECTION], q.text, SWEEP_DEPTH))
                for q in questions]
    finally:
        await store.close()
    return found


def scores(question: Question, ranked: list[str]) -> tuple[float, float]:
    relevant = set().union(*question.relevant)
    reciprocal = next((1 / rank for rank, chunk in enumerate(ranked[:10], start=1)
                       if chunk in relevant), 0.0)
    top = set(ranked[:5])
    recall = sum(bool(ids & top) for ids in question.relevant) / len(question.relevant)
    return reciprocal, recall


def summary(questions: list[Question], ranked: list[list[str]], keep: Any) -> tuple[float, ...]:
    chosen = [(q, r) for q, r in zip(questions, ranked, strict=True) if keep(q)]
    pairs = [scores(q, r) for q, r in chosen]
    return (statistics.fmean(p[0] for p in pairs), statistics.fmean(p[1] for p in pairs),
            len(pairs))


GROUPS = (("all", lambda q: True), ("tune half", lambda q: q.half == "tune"),
          ("held-out half", lambda q: q.half == "held-out"),
          ("exact words", lambda q: q.kind == "exact"),
          ("paraphrase", lambda q: q.kind == "paraphrase"))


def report(store: str, found: dict[str, Any], questions: list[Question]) -> None:
    print(f"{store}: p50 latency (ms) vector {found['vector']['p50']:.1f}, text "
          f"{found['text']['p50']:.1f}, hybrid {found['hybrid']['p50']:.1f} "
          f"(hybrid/vector {found['hybrid']['p50'] / found['vector']['p50']:.2f}x)")
    print(f"  {'questions':15s} {'n':>3s}  " + "  ".join(f"{m + ' MRR@10 / R@5':>23s}"
                                                        for m in MODES))
    for name, keep in GROUPS:
        cells = []
        for mode in MODES:
            mrr, recall, count = summary(questions, found[mode]["ranked"], keep)
            cells.append(f"{mrr:13.3f} / {recall:5.3f}")
        print(f"  {name:15s} {count:3d}  " + "  ".join(f"{c:>23s}" for c in cells))


SWEEP_DEPTH = 80


def sweep_fusion(found: dict[str, Any], questions: list[Question], k: int) -> None:
    """Fusion settings tried on the two lists each store gave (deep enough for all of them),
    by the service's own fuse(): MRR@10 / recall@5 on each half. Choose on the tune half."""
    from owui.retrieval.vectors.fusion import DEFAULT, Fusion, depth_for, fuse

    tried = [Fusion("rrf", w, depth, rrf_k) for w in (0.5, 0.6, 0.7) for rrf_k in (10, 60)
             for depth in (2, 4)]
    tried += [Fusion("convex", w, depth) for w in (0.3, 0.4, 0.5, 0.6, 0.7)
              for depth in (2, 4, 8)]
    print("  fusion sweep (tune half | held-out half), * = the default:")
    for fusion in tried:
        deep = depth_for(k, fusion)
        ranked = [[hit.id for hit in fuse([dense[:deep], sparse[:deep]], k, fusion)]
                  for dense, sparse in found["lists"]]
        tune = summary(questions, ranked, lambda q: q.half == "tune")
        held = summary(questions, ranked, lambda q: q.half == "held-out")
        mark = "*" if fusion == DEFAULT else " "
        print(f"   {mark}{fusion.method:6s} text {fusion.text_weight:.1f} depth {fusion.depth}"
              f"{f' rrf_k {fusion.rrf_k}' if fusion.method == 'rrf' else '':10s}  "
              f"{tune[0]:.3f} / {tune[1]:.3f} | {held[0]:.3f} / {held[1]:.3f}")


def start_chroma(procs: Processes, work: Path) -> str:
    from _common import free_port

    program = Path(sys.executable).parent / "chroma"
    port = free_port()
    proc = procs.start("chroma", [str(program), "run", "--path", str(work / "chroma"),
                                  "--host", "127.0.0.1", "--port", str(port)], {}, port)
    proc.wait_ready("/api/v2/heartbeat", timeout=120)
    return proc.url


async def run(args: argparse.Namespace, work: Path, procs: Processes) -> None:
    chunks, versions = load_corpus()
    questions = load_questions(chunks)
    load = os.getloadavg()
    print(f"search quality: {len(chunks)} chunks from the READMEs of "
          + ", ".join(f"{p} {v}" for p, v in versions.items()))
    print(f"{len(questions)} questions ({sum(q.kind == 'exact' for q in questions)} exact-word, "
          f"{sum(q.kind == 'paraphrase' for q in questions)} paraphrased), k={args.k}; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    progress(f"embedding {len(chunks)} chunks")
    embedder, vectors = await embed_corpus(chunks)
    chroma_url = start_chroma(procs, work) if "chroma" in args.stores else None
    for store in args.stores:
        progress(f"{store}: writing and searching")
        data_dir = work / f"{store}-{uuid.uuid4().hex[:6]}"
        data_dir.mkdir()
        settings = settings_for(store, data_dir, chroma_url)
        found = await evaluate_store(store, settings, embedder, chunks, vectors, questions,
                                     args.k, args.sweep)
        report(store, found, questions)
        if args.sweep:
            sweep_fusion(found, questions, args.k)
    await embedder.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=lambda text: text.split(","), default=list(STORES),
                        help="comma-separated, of " + ",".join(STORES))
    parser.add_argument("-k", type=int, default=10, help="hits asked of each search")
    parser.add_argument("--sweep", action="store_true",
                        help="also try fusion settings on each store's two lists")
    args = parser.parse_args()
    if unknown := set(args.stores) - set(STORES):
        parser.error(f"unknown store(s) {', '.join(sorted(unknown))}; use {', '.join(STORES)}")
    stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="owui-bench-quality-"))
    try:
        with Processes(work / "logs") as procs:
            asyncio.run(run(args, work, procs))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
