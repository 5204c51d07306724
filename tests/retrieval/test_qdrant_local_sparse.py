"""Qdrant's local mode answers BM25 from postings (qdrant_sparse.py) instead of qdrant-client's
loop over every point: the same points, in the same order, with the same scores as
qdrant-client's own `query_points(using=SPARSE)`, also after deletes, a copy and re-adds."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np

from owui.retrieval.vectors import bm25
from owui.retrieval.vectors.base import Record
from owui.retrieval.vectors.qdrant import DENSE, PREFIX, SPARSE, QdrantStore, _within

DIM = 8
WORDS = [f"w{i}" for i in range(60)] + ["alpha", "beta", "gamma", "delta", "the", "and"]


def _records(count: int, rng: np.random.Generator) -> list[Record]:
    vectors = rng.normal(size=(count, DIM)).astype(np.float32)
    records = []
    for i in range(count):
        # Few words from a small vocabulary: many ties in score, and repeated words.
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 12))))
        records.append(Record(uuid.uuid4().hex, f"c{i % 3}", f"f{i % 9}", text, vectors[i],
                              {"n": i}))
    return records


def _queries(rng: np.random.Generator, count: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 5)))) for _ in range(count)]


async def _assert_same_as_qdrant(store: QdrantStore, queries: list[str],
                                 rng: np.random.Generator) -> None:
    from qdrant_client import models

    local = store._client._client  # the QdrantClient itself: qdrant-client's own scoring
    name = f"{PREFIX}{DIM}"
    compared = 0
    for query in queries:
        collections = [c for c in ("c0", "c1", "c2", "c9") if rng.random() < 0.6] or ["c1"]
        k = int(rng.choice([1, 5, 10, 40]))
        indices, values = bm25.query_vector(query)
        expected = local.query_points(
            name, query=models.SparseVector(indices=indices, values=values), using=SPARSE,
            query_filter=_within(collections), limit=k, with_payload=True).points
        found = await store.text_search(collections, query, k)
        assert [h.id for h in found] == [p.payload["id"] for p in expected], query
        assert np.allclose([h.score for h in found], [p.score for p in expected],
                           rtol=0, atol=1e-6)
        # Bit for bit, in fact: the same sums in the same order.
        assert [h.score for h in found] == [p.score for p in expected]
        compared += len(found)
        # Hybrid's two lists: the vector one as before, the BM25 one as above.
        vector = rng.normal(size=DIM).astype(np.float32)
        dense, sparse = await store._run(store._search, collections, vector, query, k)
        batch = local.query_batch_points(name, [
            models.QueryRequest(query=vector.tolist(), using=DENSE,
                                filter=_within(collections), limit=k, with_payload=True),
            models.QueryRequest(query=models.SparseVector(indices=indices, values=values),
                                using=SPARSE, filter=_within(collections), limit=k,
                                with_payload=True)])
        assert [h.id for h in dense] == [p.payload["id"] for p in batch[0].points]
        assert [(h.id, h.score) for h in sparse] == [(p.payload["id"], p.score)
                                                     for p in batch[1].points]
    assert compared > len(queries)  # the queries found something


async def test_local_bm25_ranks_as_qdrant_client_does(tmp_path: Path) -> None:
    rng = np.random.default_rng(19)
    store = QdrantStore(f"file:{tmp_path / 'qdrant'}")
    await store.start()
    try:
        await store.add(_records(300, rng))
        await _assert_same_as_qdrant(store, _queries(rng, 80), rng)

        assert await store.delete(file_id="f4") > 0
        assert await store.delete(collection="c2") > 0
        await _assert_same_as_qdrant(store, _queries(rng, 40), rng)

        assert await store.copy("c0", "c9", "f3") > 0
        await store.add(_records(80, rng))
        await _assert_same_as_qdrant(store, _queries(rng, 40), rng)
        hits = await store.text_search(["c9"], " ".join(WORDS), 50)
        assert hits and all(h.collection == "c9" and h.file_id == "f3" for h in hits)
    finally:
        await store.close()
