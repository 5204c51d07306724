"""Qdrant, through qdrant-client's async client: a server at QDRANT_URL (with QDRANT_API_KEY),
or, for `file:PATH`, qdrant-client's embedded local mode (exact search in Python, on a worker
thread; for development and tests, not for production). Local mode's BM25 side is scored from
postings kept here (qdrant_sparse.py) rather than by its loop over every point, with the same
ranking; a server scores it itself.

Like LanceDB, rows of every collection share one Qdrant collection per vector size, told apart
by payload (keyword-indexed on a server), so a search over several collections is one query.
Each point carries two vectors: the embedding, and BM25 term weights as a sparse vector that
Qdrant scores with its own, always current, inverse document frequencies (see bm25.py). Hybrid
search sends both queries in one batch and fuses them here (fusion.py), so that scores
follow the same contract as every other store.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from owui.retrieval.vectors import bm25
from owui.retrieval.vectors.base import (
    Hit,
    Record,
    VectorStore,
    VectorStoreError,
    best,
    hybrid_depth,
)
from owui.retrieval.vectors.fusion import fuse
from owui.retrieval.vectors.qdrant_sparse import LocalSparse

PREFIX = "owui_chunks_"
DENSE, SPARSE = "dense", "bm25"
BATCH = 256  # points per upsert request
PAGE = 1024  # points per scroll page
# Point ids must be UUIDs or integers: ours are derived from the record id, kept in the payload.
_POINT_IDS = uuid.UUID("6f0c1f3e-2b0a-4c55-9d8e-8d3f2f1b7a10")


def point_id(record_id: str) -> str:
    return str(uuid.uuid5(_POINT_IDS, record_id))


class QdrantStore(VectorStore):
    name = "qdrant"

    def __init__(self, url: str, api_key: str | None = None, timeout: int = 60) -> None:
        self.url = url
        self.local_path = url.removeprefix("file://").removeprefix("file:") \
            if url.startswith("file:") else None
        self.api_key = api_key
        self.timeout = timeout
        self._client: Any = None
        self._opening: asyncio.Future[Any] | None = None
        self._dims: set[int] = set()
        self._creating = asyncio.Lock()

    # connection

    async def start(self) -> None:
        if self._opening is None:
            # qdrant_client takes a while to import, and local mode reads its files at once.
            self._opening = asyncio.get_running_loop().run_in_executor(None, self._connect)

    def _connect(self) -> Any:
        from qdrant_client import AsyncQdrantClient, QdrantClient

        if self.local_path is not None:
            return LocalOnThreads(QdrantClient(path=self.local_path,
                                               force_disable_check_same_thread=True))
        return AsyncQdrantClient(url=self.url, api_key=self.api_key, timeout=self.timeout,
                                 check_compatibility=False)

    async def _connected(self) -> Any:
        if self._client is None:
            await self.start()
            assert self._opening is not None
            try:
                self._client = await asyncio.shield(self._opening)
            except Exception as exc:
                self._opening = None  # the next call tries again
                raise self._failed(exc) from exc
        return self._client

    def _failed(self, exc: Exception) -> VectorStoreError:
        return VectorStoreError(f"Qdrant at {self.url} failed: {exc.__class__.__name__}: {exc}")

    async def _run(self, fn: Any, *args: Any) -> Any:
        client = await self._connected()
        try:
            return await fn(client, *args)
        except VectorStoreError:
            raise
        except Exception as exc:  # httpx, grpc and qdrant errors alike: the store failed
            raise self._failed(exc) from exc

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    # collections

    async def _existing(self, client: Any, refresh: bool = False) -> list[str]:
        """Qdrant collections of ours; listed once, again only for a size not seen yet."""
        if refresh or not self._dims:
            for described in (await client.get_collections()).collections:
                name = described.name
                if name.startswith(PREFIX) and name[len(PREFIX):].isdigit():
                    self._dims.add(int(name[len(PREFIX):]))
        return [f"{PREFIX}{dim}" for dim in sorted(self._dims)]

    async def _ensure(self, client: Any, dim: int) -> str:
        name = f"{PREFIX}{dim}"
        if dim in self._dims:
            return name
        async with self._creating:
            if dim not in self._dims and not await client.collection_exists(name):
                await self._create(client, name, dim)
            self._dims.add(dim)
        return name

    async def _create(self, client: Any, name: str, dim: int) -> None:
        from qdrant_client import models

        try:
            await client.create_collection(
                name, vectors_config={DENSE: models.VectorParams(
                    size=dim, distance=models.Distance.COSINE)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(
                    modifier=models.Modifier.IDF)})
        except Exception:
            if not await client.collection_exists(name):  # else another replica made it
                raise
        if self.local_path is None:  # local mode has no payload indexes (it scans)
            for field, tenant in (("collection", True), ("file_id", False)):
                await client.create_payload_index(name, field, models.KeywordIndexParams(
                    type=models.KeywordIndexType.KEYWORD, is_tenant=tenant), wait=True)

    # writes

    async def add(self, records: Sequence[Record]) -> None:
        if records:
            await self._run(self._add, records)

    async def _add(self, client: Any, records: Sequence[Record]) -> None:
        name = await self._ensure(client, int(records[0].vector.shape[0]))
        points = [_point(record) for record in records]
        try:
            for start in range(0, len(points), BATCH):
                await client.upsert(name, points[start:start + BATCH], wait=True)
        except BaseException:
            # All of a document or nothing: take back what went in before the failure.
            with contextlib.suppress(Exception):
                await asyncio.shield(_delete_ids(client, name, [p.id for p in points]))
            raise

    async def delete(self, *, collection: str | None = None, file_id: str | None = None) -> int:
        where = {key: value for key, value in (("collection", collection), ("file_id", file_id))
                 if value is not None}
        if not where:
            raise ValueError("delete needs a collection or a file")
        return await self._run(self._delete, where)

    async def _delete(self, client: Any, where: dict[str, str]) -> int:
        from qdrant_client import models

        selected = _matching(where)
        removed = 0
        for name in await self._existing(client):
            count = (await client.count(name, count_filter=selected, exact=True)).count
            if count:
                await client.delete(name, points_selector=models.FilterSelector(filter=selected),
                                    wait=True)
                removed += count
        return removed

    async def copy(self, source: str, target: str, file_id: str) -> int:
        return await self._run(self._copy, source, target, file_id)

    async def _copy(self, client: Any, source: str, target: str, file_id: str) -> int:
        from qdrant_client import models

        selected = _matching({"collection": source, "file_id": file_id})
        copied = 0
        for name in await self._existing(client):
            offset = None
            while True:
                points, offset = await client.scroll(name, scroll_filter=selected, limit=PAGE,
                                                     offset=offset, with_payload=True,
                                                     with_vectors=True)
                copies = []
                for point in points:
                    record_id = uuid.uuid4().hex
                    payload = {**point.payload, "id": record_id, "collection": target}
                    copies.append(models.PointStruct(id=point_id(record_id), vector=point.vector,
                                                     payload=payload))
                if copies:
                    await client.upsert(name, copies, wait=True)
                    copied += len(copies)
                if offset is None:
                    break
        return copied

    async def count(self, collection: str) -> int:
        return await self._run(self._count, collection)

    async def _count(self, client: Any, collection: str) -> int:
        selected = _matching({"collection": collection})
        return sum([(await client.count(name, count_filter=selected, exact=True)).count
                    for name in await self._existing(client)])

    # reads

    async def vector_search(self, collections: Sequence[str], vector: np.ndarray,
                            k: int) -> list[Hit]:
        return (await self._run(self._search, collections, vector, "", k))[0]

    async def text_search(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        if not bm25.terms(query):
            return []
        return await self._run(self._text, collections, query, k)

    async def _text(self, client: Any, collections: Sequence[str], query: str,
                    k: int) -> list[Hit]:
        from qdrant_client import models

        indices, values = bm25.query_vector(query)
        hits: list[Hit] = []
        for name in await self._existing(client):
            if isinstance(client, LocalOnThreads):
                hits.extend(await client.sparse_search(name, indices, values, collections, k))
                continue
            found = await client.query_points(
                name, query=models.SparseVector(indices=indices, values=values), using=SPARSE,
                query_filter=_within(collections), limit=k, with_payload=True)
            hits.extend(_hit(point) for point in found.points)
        return best(hits, k)

    async def fused_search(self, collections: Sequence[str], vector: np.ndarray, query: str,
                           k: int) -> list[Hit]:
        if not bm25.terms(query):  # words, but none that BM25 counts (punctuation only)
            return await self.vector_search(collections, vector, k)
        dense, sparse = await self._run(self._search, collections, vector, query,
                                        hybrid_depth(k))
        return fuse([dense, sparse], k)

    async def _search(self, client: Any, collections: Sequence[str], vector: np.ndarray,
                      query: str, k: int) -> list[list[Hit]]:
        """The vector query, and the BM25 one when `query` is given, in one request."""
        from qdrant_client import models

        dim = int(vector.shape[0])
        name = f"{PREFIX}{dim}"
        if name not in await self._existing(client, refresh=dim not in self._dims):
            return [[], []]
        within = _within(collections)
        if isinstance(client, LocalOnThreads):
            return await client.search(name, vector, query, collections, k)
        requests = [models.QueryRequest(query=vector.astype(np.float32).tolist(), using=DENSE,
                                        filter=within, limit=k, with_payload=True)]
        if query:
            indices, values = bm25.query_vector(query)
            requests.append(models.QueryRequest(
                query=models.SparseVector(indices=indices, values=values), using=SPARSE,
                filter=within, limit=k, with_payload=True))
        responses = await client.query_batch_points(name, requests)
        return [[_hit(point) for point in response.points] for response in responses]


# Client calls that change points: the BM25 postings of local mode are built again after them.
_WRITES = frozenset({"upsert", "delete", "create_collection", "delete_collection",
                     "update_vectors", "delete_vectors", "set_payload", "overwrite_payload"})


class LocalOnThreads:
    """qdrant-client's local mode computes in the caller's thread (its async client too, which
    would stall the event loop for a whole scan): the same calls, awaited, on a worker thread,
    one at a time since local mode is not thread-safe. BM25 queries are answered from postings
    instead of local mode's loop over every point (qdrant_sparse.py), with the same ranking."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._sparse = LocalSparse()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(self._locked, method, args, kwargs)

        return call

    def _locked(self, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        with self._lock:
            try:
                return method(*args, **kwargs)
            finally:
                if getattr(method, "__name__", "") in _WRITES:
                    self._sparse.changed()

    async def sparse_search(self, name: str, indices: list[int], values: list[float],
                            collections: Sequence[str], k: int) -> list[Hit]:
        found = await asyncio.to_thread(self._locked, self._sparse.search,
                                        (self._client, name, SPARSE, indices, values,
                                         collections, k), {})
        return [_hit_of(payload, score) for payload, score in found]

    async def search(self, name: str, vector: np.ndarray, query: str,
                     collections: Sequence[str], k: int) -> list[list[Hit]]:
        """The vector query, and the BM25 one when `query` is given, in one trip to the
        worker thread."""
        return await asyncio.to_thread(self._locked, self._both,
                                       (name, vector, query, collections, k), {})

    def _both(self, name: str, vector: np.ndarray, query: str, collections: Sequence[str],
              k: int) -> list[list[Hit]]:
        found = self._client.query_points(name, query=vector.astype(np.float32).tolist(),
                                          using=DENSE, query_filter=_within(collections),
                                          limit=k, with_payload=True)
        lists = [[_hit(point) for point in found.points]]
        if query:
            indices, values = bm25.query_vector(query)
            lists.append([_hit_of(payload, score) for payload, score in self._sparse.search(
                self._client, name, SPARSE, indices, values, collections, k)])
        return lists


def _point(record: Record) -> Any:
    from qdrant_client import models

    indices, values = bm25.document_vector(record.text)
    return models.PointStruct(
        id=point_id(record.id),
        vector={DENSE: record.vector.astype(np.float32).tolist(),
                SPARSE: models.SparseVector(indices=indices, values=values)},
        payload={"id": record.id, "collection": record.collection, "file_id": record.file_id,
                 "text": record.text, "meta": record.meta})


def _matching(where: dict[str, str]) -> Any:
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(key=key, match=models.MatchValue(value=value))
                               for key, value in where.items()])


def _within(collections: Sequence[str]) -> Any:
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(
        key="collection", match=models.MatchAny(any=list(collections)))])


async def _delete_ids(client: Any, name: str, ids: list[str]) -> None:
    from qdrant_client import models

    await client.delete(name, points_selector=models.PointIdsList(points=ids), wait=True)


def _hit(point: Any) -> Hit:
    return _hit_of(point.payload or {}, float(point.score))


def _hit_of(payload: dict[str, Any], score: float) -> Hit:
    meta = payload.get("meta")
    # A copy: local mode hands out its stored payloads as they are.
    return Hit(payload["id"], payload["collection"], payload["file_id"], payload["text"],
               score, dict(meta) if isinstance(meta, dict) else {})
