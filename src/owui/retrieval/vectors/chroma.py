"""A Chroma server (`chroma run`), reached over HTTP at CHROMA_HTTP_URL.

We always pass our own embeddings: Chroma's default embedding function would download a
model. Each owui collection has its own Chroma collection per vector size, so a search needs
no metadata filter: Chroma answers a `where` by first reading every matching id out of its
SQLite metadata, which at 20,000 rows made a search 17 times slower (67 ms against 4 ms).
Chroma's local server has no BM25, so full text goes to an index of ours beside it, in SQLite
(see fts.py), written in the same calls.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from owui.retrieval.vectors.base import Hit, Record, ThreadedStore, best, meta_from_json
from owui.retrieval.vectors.fts import FullTextIndex

OWNER = "owui_collection"  # the Chroma collection's metadata key holding the owui name
_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,200}")
_PAGE = 1000


def chroma_name(collection: str, dim: int) -> str:
    """A name within Chroma's rules (3-512 of [a-zA-Z0-9._-], alphanumeric at both ends).
    Plain names are kept readable; others are hashed. Only hashed names hold a '.', so the
    two forms never meet, and neither meets the old shared 'owui_chunks_<dim>' layout."""
    if _PLAIN.fullmatch(collection):
        return f"owui-{collection}-{dim}"
    return f"owui.{hashlib.sha256(collection.encode()).hexdigest()}.{dim}"


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
        self._handles: dict[str, Any] = {}  # Chroma name -> collection, for searches
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

    def _owned(self, collection: str | None = None) -> Iterator[tuple[str, Any]]:
        """(owui name, Chroma collection) for every vector size, or those of one collection."""
        offset = 0
        while True:
            page = self._client.list_collections(limit=_PAGE, offset=offset)
            for found in page:
                owner = (found.metadata or {}).get(OWNER)
                if isinstance(owner, str) and collection in (None, owner):
                    yield owner, found
            if len(page) < _PAGE:
                return
            offset += _PAGE

    def _create(self, collection: str, dim: int) -> Any:
        return self._client.get_or_create_collection(
            chroma_name(collection, dim), metadata={OWNER: collection},
            embedding_function=None, configuration={"hnsw": {"space": "cosine"}})

    def _handle(self, collection: str, dim: int, fresh: bool = False) -> Any | None:
        """The collection to search, or None if it has no rows of this size."""
        from chromadb.errors import NotFoundError

        name = chroma_name(collection, dim)
        if fresh or name not in self._handles:
            try:
                self._handles[name] = self._client.get_collection(name, embedding_function=None)
            except NotFoundError:
                self._handles.pop(name, None)
                return None
        return self._handles[name]

    async def add(self, records: Sequence[Record]) -> None:
        if records:
            await self._run(self._add, records)

    def _add(self, records: Sequence[Record]) -> None:
        groups: dict[tuple[str, int], list[Record]] = defaultdict(list)
        for record in records:
            groups[record.collection, int(record.vector.shape[0])].append(record)
        step = self._client.get_max_batch_size()
        written: list[tuple[Any, list[str]]] = []
        try:
            for (name, dim), group in groups.items():
                collection = self._create(name, dim)
                written.append((collection, [r.id for r in group]))
                for start in range(0, len(group), step):
                    batch = group[start:start + step]
                    collection.add(ids=[r.id for r in batch],
                                   embeddings=np.vstack([r.vector for r in batch]),
                                   documents=[r.text for r in batch],
                                   metadatas=[_metadata(r) for r in batch])
            self.fts.add(records)
        except Exception:
            # All of a document or nothing: take back what went in before the failure.
            for collection, ids in written:
                collection.delete(ids=ids)
            self.fts.delete(ids=[r.id for r in records])
            raise

    async def delete(self, *, collection: str | None = None, file_id: str | None = None) -> int:
        if collection is None and file_id is None:
            raise ValueError("delete needs a collection or a file")
        return await self._run(self._delete, collection, file_id)

    def _delete(self, name: str | None, file_id: str | None) -> int:
        removed = 0
        for _, collection in self._owned(name):
            if file_id is None:
                removed += collection.count()
                self._client.delete_collection(collection.name)
                self._handles.pop(collection.name, None)
                continue
            ids = collection.get(where={"file_id": file_id}, include=[])["ids"]
            if ids:
                collection.delete(ids=ids)
                removed += len(ids)
        self.fts.delete(collection=name, file_id=file_id)
        return removed

    async def copy(self, source: str, target: str, file_id: str) -> int:
        return await self._run(self._copy, source, target, file_id)

    def _copy(self, source: str, target: str, file_id: str) -> int:
        copied = 0
        for _, collection in self._owned(source):
            rows = collection.get(where={"file_id": file_id},
                                  include=["embeddings", "documents", "metadatas"])
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
        return sum(collection.count() for _, collection in self._owned(name))

    async def vector_search(self, collections: Sequence[str], vector: np.ndarray,
                            k: int) -> list[Hit]:
        return await self._run(self._vector, collections, vector, k)

    def _vector(self, collections: Sequence[str], vector: np.ndarray, k: int) -> list[Hit]:
        hits = [hit for name in dict.fromkeys(collections)
                for hit in self._vector_one(name, vector, k)]
        return best(hits, k)

    def _vector_one(self, name: str, vector: np.ndarray, k: int) -> list[Hit]:
        from chromadb.errors import NotFoundError

        dim = int(vector.shape[0])
        collection = self._handle(name, dim)
        if collection is None:
            return []
        query = {"query_embeddings": [vector], "n_results": k,
                 "include": ["documents", "metadatas", "distances"]}
        try:
            result = collection.query(**query)
        except NotFoundError:  # deleted (and maybe made again) since we cached the handle
            collection = self._handle(name, dim, fresh=True)
            if collection is None:
                return []
            result = collection.query(**query)
        return [Hit(id_, name, meta["file_id"], text, 1.0 - float(distance),
                    meta_from_json(meta.get("meta")))
                for id_, text, meta, distance in zip(
                    result["ids"][0], result["documents"][0], result["metadatas"][0],
                    result["distances"][0], strict=True)]

    async def text_search(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        return await self._run(lambda: self.fts.search(collections, query, k))


def _metadata(record: Record) -> dict[str, Any]:
    return {"file_id": record.file_id, "meta": record.meta_json()}
