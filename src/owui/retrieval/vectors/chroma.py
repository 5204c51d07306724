"""A Chroma server (`chroma run`), reached over HTTP at CHROMA_HTTP_URL.

We always pass our own embeddings: Chroma's default embedding function would download a
model. Rows of every collection share one Chroma collection per vector size, told apart by
metadata, so a search over several collections is one query. Chroma's local server has no
BM25, so full text goes to an FTS5 index beside it (see fts.py), written in the same calls.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from owui.retrieval.vectors.base import Hit, Record, ThreadedStore, meta_from_json
from owui.retrieval.vectors.fts import FullTextIndex

PREFIX = "owui_chunks_"


class ChromaStore(ThreadedStore):
    name = "chroma"

    def __init__(self, url: str, data_dir: Path) -> None:
        super().__init__()
        parts = urlsplit(url if "://" in url else f"http://{url}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 8000)
        self.ssl = parts.scheme == "https"
        self.url = url
        self.label = f"Chroma at {url}"
        self.fts_path = data_dir / "chroma-fulltext.sqlite"
        self._collections: dict[int, Any] = {}
        self._fts: FullTextIndex | None = None

    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        self._fts = FullTextIndex(self.fts_path)
        return chromadb.HttpClient(host=self.host, port=self.port, ssl=self.ssl,
                                   settings=Settings(anonymized_telemetry=False))

    @property
    def fts(self) -> FullTextIndex:
        assert self._fts is not None
        return self._fts

    def _existing(self, refresh: bool = False) -> dict[int, Any]:
        """Collections by vector size; listed once, again only for a size not seen yet."""
        if self._collections and not refresh:
            return self._collections
        for collection in self._client.list_collections():
            name = collection.name
            if name.startswith(PREFIX) and name[len(PREFIX):].isdigit():
                dim = int(name[len(PREFIX):])
                if dim not in self._collections:
                    self._collections[dim] = self._open(dim)
        return self._collections

    def _open(self, dim: int) -> Any:
        return self._client.get_or_create_collection(
            f"{PREFIX}{dim}", embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}})

    def _collection(self, dim: int) -> Any:
        if dim not in self._collections:
            self._collections[dim] = self._open(dim)
        return self._collections[dim]

    async def add(self, records: Sequence[Record]) -> None:
        if records:
            await self._run(self._add, records)

    def _add(self, records: Sequence[Record]) -> None:
        collection = self._collection(int(records[0].vector.shape[0]))
        step = self._client.get_max_batch_size()
        try:
            for start in range(0, len(records), step):
                batch = records[start:start + step]
                collection.add(ids=[r.id for r in batch],
                               embeddings=np.vstack([r.vector for r in batch]),
                               documents=[r.text for r in batch],
                               metadatas=[_metadata(r) for r in batch])
            self.fts.add(records)
        except Exception:
            # All of a document or nothing: take back what went in before the failure.
            collection.delete(ids=[r.id for r in records])
            self.fts.delete(f"id IN ({', '.join('?' for _ in records)})",
                            [r.id for r in records])
            raise

    async def delete(self, *, collection: str | None = None, file_id: str | None = None) -> int:
        where: dict[str, Any] = {}
        if collection is not None:
            where["collection"] = collection
        if file_id is not None:
            where["file_id"] = file_id
        if not where:
            raise ValueError("delete needs a collection or a file")
        return await self._run(self._delete, where)

    def _delete(self, where: dict[str, Any]) -> int:
        chroma_where = where if len(where) == 1 else {"$and": [{k: v} for k, v in where.items()]}
        removed = 0
        for collection in self._existing().values():
            ids = collection.get(where=chroma_where, include=[])["ids"]
            if ids:
                collection.delete(ids=ids)
                removed += len(ids)
        self.fts.delete(" AND ".join(f"{key} = ?" for key in where), list(where.values()))
        return removed

    async def copy(self, source: str, target: str, file_id: str) -> int:
        return await self._run(self._copy, source, target, file_id)

    def _copy(self, source: str, target: str, file_id: str) -> int:
        where = {"$and": [{"collection": source}, {"file_id": file_id}]}
        copied = 0
        for collection in self._existing().values():
            rows = collection.get(where=where, include=["embeddings", "documents", "metadatas"])
            if not rows["ids"]:
                continue
            records = [Record(uuid.uuid4().hex, target, file_id, text, np.asarray(vector),
                              meta_from_json(meta.get("meta")))
                       for text, vector, meta in zip(rows["documents"], rows["embeddings"],
                                                     rows["metadatas"], strict=True)]
            self._add(records)
            copied += len(records)
        return copied

    async def count(self, collection: str) -> int:
        return await self._run(self._count, collection)

    def _count(self, name: str) -> int:
        return sum(len(c.get(where={"collection": name}, include=[])["ids"])
                   for c in self._existing().values())

    async def vector_search(self, collections: Sequence[str], vector: np.ndarray,
                            k: int) -> list[Hit]:
        return await self._run(self._vector, collections, vector, k)

    def _vector(self, collections: Sequence[str], vector: np.ndarray, k: int) -> list[Hit]:
        dim = int(vector.shape[0])
        collection = self._existing(refresh=dim not in self._collections).get(dim)
        if collection is None:
            return []
        result = collection.query(query_embeddings=[vector], n_results=k,
                                  where={"collection": {"$in": list(collections)}},
                                  include=["documents", "metadatas", "distances"])
        return [Hit(id_, meta["collection"], meta["file_id"], text, 1.0 - float(distance),
                    meta_from_json(meta.get("meta")))
                for id_, text, meta, distance in zip(
                    result["ids"][0], result["documents"][0], result["metadatas"][0],
                    result["distances"][0], strict=True)]

    async def text_search(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        return await self._run(lambda: self.fts.search(collections, query, k))


def _metadata(record: Record) -> dict[str, Any]:
    return {"collection": record.collection, "file_id": record.file_id,
            "meta": json.dumps(record.meta, ensure_ascii=False)}
