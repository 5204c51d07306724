"""Embedding throughput: the default model on ONNX Runtime (retrieval/bert_onnx.py, what the
service runs) against the same model through sentence-transformers and torch (what it ran before),
both in this process, alternating, on chunk-sized texts.

    .venv/bin/python bench/embeddings.py [--texts 1000] [--rounds 3] [--threads 1]

The texts are the bench's real corpus (bench/search_quality.py's package READMEs) cut by the
service's own Chunker, so their lengths are those of ingestion. Prints texts/s per side and
round, the medians and their ratio (target: ONNX at least 90% of torch's), and the lowest cosine
between the two sides' vectors. Needs the test extra (sentence-transformers, torch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from owui.retrieval.embeddings import _SentenceTransformer, load_model
from owui.retrieval.model_files import model_dir
from search_quality import load_corpus


def rate(model: object, texts: list[str], batch: int) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = model.encode(texts, batch)  # type: ignore[attr-defined]
    return len(texts) / (time.perf_counter() - started), vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="RAG_EMBEDDING_THREADS")
    parser.add_argument("--batch", type=int, default=32, help="RAG_EMBEDDING_BATCH_SIZE")
    args = parser.parse_args()
    texts = [chunk.text for chunk in load_corpus()[0]][:args.texts]
    onnx = load_model(threads=args.threads)
    torch = _SentenceTransformer(str(model_dir()), args.threads)
    print(f"{len(texts)} chunks, mean {statistics.mean(map(len, texts)):.0f} characters, "
          f"batch {args.batch}, {args.threads} thread(s)")
    rates: dict[str, list[float]] = {"onnx": [], "torch": []}
    vectors: dict[str, np.ndarray] = {}
    for round_ in range(args.rounds):
        for name, model in (("onnx", onnx), ("torch", torch)):
            measured, vectors[name] = rate(model, texts, args.batch)
            rates[name].append(measured)
            print(f"  round {round_ + 1} {name:5} {measured:7.1f} texts/s")
    onnx_rate, torch_rate = (statistics.median(rates[k]) for k in ("onnx", "torch"))
    cosine = float((vectors["onnx"] * vectors["torch"]).sum(axis=1).min())
    print(f"median: onnx {onnx_rate:.1f} texts/s, torch {torch_rate:.1f} texts/s, "
          f"ratio {onnx_rate / torch_rate:.2f} (target >= 0.90); lowest cosine {cosine:.6f}")


if __name__ == "__main__":
    main()
