"""Milvus through pymilvus: a server at MILVUS_URI (http(s)://HOST:19530, with MILVUS_TOKEN), or
Milvus Lite for a local `.db` path (pymilvus starts it in-process and talks gRPC to it).

Like LanceDB, rows of every collection share one Milvus collection per vector size, told apart
by scalar fields (inverted indexes), so a search over several collections is one query. Full
text is Milvus's own: a BM25 function turns `text` into a sparse vector on insert and the query
text at search time, so its statistics stay current as rows come and go. Hybrid search is
both searches fused here as every store's are (fusion.py, tuned once for all). Collections
are created with Strong consistency, so that a row is searchable as soon as its insert
returns.

pymilvus's client is synchronous: calls run on worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from owui.retrieval.vectors.base import (
    Hit,
    Record,
    ThreadedStore,
    best,
    meta_from_json,
)

PREFIX = "owui_chunks_"
FIELDS = ["id", "collection", "file_id", "text", "meta"]
BATCH = 512  # rows per insert
PAGE = 1000  # rows per page when copying
MAX_TEXT = 65_535  # Milvus's VARCHAR limit (bytes)


def quote(value: str) -> str:
    """A string literal of Milvus's filter expressions."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def where(**fields: str | None) -> str:
    return " and ".join(f"{key} == {quote(value)}" for key, value in fields.items()
                        if value is not None)


def within(collections: Sequence[str]) -> str:
    return f"collection in [{', '.join(quote(c) for c in collections)}]"


class MilvusStore(ThreadedStore):
    name = "milvus"

    def __init__(self, uri: str, token: str | None = None) -> None:
        super().__init__()
        self.uri = uri
        self.label = f"Milvus at {uri}"
        self.token = token
        self._dims: set[int] = set()
        self._creating = threading.Lock()

    def _connect(self) -> Any:
        MilvusClient = _import_client()
        if self.uri.endswith(".db"):
            Path(self.uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return MilvusClient(uri=self.uri, token=self.token or "")

    async def close(self) -> None:
        if self._client is None:
            return
        client, self._client = self._client, None
        await asyncio.to_thread(client.close)
        if self.uri.endswith(".db"):
            # Milvus Lite's server for the file runs in this process until its exit (atexit,
            # which logs to streams that may be gone by then): stopped with the store instead.
            from milvus_lite.server_manager import server_manager_instance

            await asyncio.to_thread(server_manager_instance.release_server, self.uri)

    # collections

    def _existing(self, refresh: bool = False) -> list[str]:
        """Milvus collections of ours, loaded; listed once, again only for a size not seen."""
        if refresh or not self._dims:
            for name in self._client.list_collections():
                if name.startswith(PREFIX) and name[len(PREFIX):].isdigit() \
                        and int(name[len(PREFIX):]) not in self._dims:
                    self._client.load_collection(name)  # searchable only once loaded
                    self._dims.add(int(name[len(PREFIX):]))
        return [f"{PREFIX}{dim}" for dim in sorted(self._dims)]

    def _ensure(self, dim: int) -> str:
        name = f"{PREFIX}{dim}"
        with self._creating:
            if dim not in self._dims and name not in self._existing(refresh=True):
                self._create(name, dim)
                self._dims.add(dim)
        return name

    def _create(self, name: str, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("collection", DataType.VARCHAR, max_length=512)
        schema.add_field("file_id", DataType.VARCHAR, max_length=512)
        # The standard analyzer (words, lower case): Milvus Lite has no stemming analyzer.
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True)
        schema.add_field("meta", DataType.VARCHAR, max_length=MAX_TEXT)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="text_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        indexes = self._client.prepare_index_params()
        indexes.add_index(field_name="vector", index_type="HNSW", metric_type="COSINE",
                          params={"M": 16, "efConstruction": 200})
        indexes.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX",
                          metric_type="BM25")
        for field in ("collection", "file_id"):
            indexes.add_index(field_name=field, index_type="INVERTED")
        self._client.create_collection(name, schema=schema, index_params=indexes,
                                       consistency_level="Strong")
        self._client.load_collection(name)

    # writes

    async def add(self, records: Sequence[Record]) -> None:
        if records:
            await self._run(self._add, records)

    def _add(self, records: Sequence[Record]) -> None:
        name = self._ensure(int(records[0].vector.shape[0]))
        rows = [{"id": r.id, "collection": r.collection, "file_id": r.file_id, "text": r.text,
                 "meta": r.meta_json(), "vector": r.vector.astype(np.float32).tolist()}
                for r in records]
        self._insert(name, rows)

    def _insert(self, name: str, rows: list[dict[str, Any]]) -> None:
        try:
            for start in range(0, len(rows), BATCH):
                self._client.insert(name, rows[start:start + BATCH])
        except Exception:
            # All of a document or nothing: take back what went in before the failure.
            with contextlib.suppress(Exception):
                self._client.delete(name, ids=[row["id"] for row in rows])
            raise

    async def delete(self, *, collection: str | None = None, file_id: str | None = None) -> int:
        if collection is None and file_id is None:
            raise ValueError("delete needs a collection or a file")
        return await self._run(self._delete, where(collection=collection, file_id=file_id))

    def _delete(self, expression: str) -> int:
        removed = 0
        for name in self._existing():
            count = self._count_where(name, expression)
            if count:
                self._client.delete(name, filter=expression)
                removed += count
        return removed

    def _count_where(self, name: str, expression: str) -> int:
        rows = self._client.query(name, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    async def copy(self, source: str, target: str, file_id: str) -> int:
        return await self._run(self._copy, where(collection=source, file_id=file_id), target)

    def _copy(self, expression: str, target: str) -> int:
        copied = 0
        for name in self._existing():
            pages = self._client.query_iterator(name, batch_size=PAGE, filter=expression,
                                                output_fields=[*FIELDS, "vector"])
            try:
                while page := pages.next():
                    rows = [{**row, "id": uuid.uuid4().hex, "collection": target}
                            for row in page]
                    self._insert(name, rows)
                    copied += len(rows)
            finally:
                pages.close()
        return copied

    async def count(self, collection: str) -> int:
        return await self._run(self._count, where(collection=collection))

    def _count(self, expression: str) -> int:
        return sum(self._count_where(name, expression) for name in self._existing())

    # upkeep

    async def maintain(self) -> None:
        if self.uri.endswith(".db"):
            await self._run(self._flush)

    def _flush(self) -> None:
        # Milvus Lite keeps new rows in a memtable that it scans row by row until a flush seals
        # them into an indexed segment (10x faster queries at 10,000 rows). A Milvus server
        # seals segments by itself, and limits how often flush may be called: left to it.
        for name in self._existing():
            self._client.flush(name)

    # reads

    def _for_vector(self, vector: np.ndarray) -> str | None:
        dim = int(vector.shape[0])
        name = f"{PREFIX}{dim}"
        return name if name in self._existing(refresh=dim not in self._dims) else None

    async def vector_search(self, collections: Sequence[str], vector: np.ndarray,
                            k: int) -> list[Hit]:
        return await self._run(self._vector, collections, vector, k)

    def _vector(self, collections: Sequence[str], vector: np.ndarray, k: int) -> list[Hit]:
        name = self._for_vector(vector)
        if name is None:
            return []
        found = self._client.search(name, data=[vector.astype(np.float32).tolist()],
                                    anns_field="vector", filter=within(collections), limit=k,
                                    output_fields=FIELDS, search_params={"metric_type": "COSINE"})
        return [_hit(row, float(row["distance"])) for row in found[0]]

    async def text_search(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        if not query.strip():
            return []
        return await self._run(self._text, collections, query, k)

    def _text(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        hits: list[Hit] = []
        for name in self._existing():
            found = self._client.search(name, data=[query], anns_field="sparse",
                                        filter=within(collections), limit=k,
                                        output_fields=FIELDS, search_params={"metric_type": "BM25"})
            # BM25 is never negative; Milvus Lite reports it negated (as a distance).
            hits.extend(_hit(row, abs(float(row["distance"]))) for row in found[0])
        return best(hits, k)


def _import_client() -> Any:
    """pymilvus reads MILVUS_URI itself when imported and refuses a Milvus Lite path there (it
    parses it as a URL); the URI is passed explicitly, so the variable is hidden meanwhile."""
    hidden = os.environ.pop("MILVUS_URI", None)
    try:
        from pymilvus import MilvusClient
    finally:
        if hidden is not None:
            os.environ["MILVUS_URI"] = hidden
    return MilvusClient


def _hit(row: dict[str, Any], score: float) -> Hit:
    entity = row["entity"]
    return Hit(str(row["id"]), entity["collection"], entity["file_id"], entity["text"], score,
               meta_from_json(entity.get("meta")))
