"""What every vector store offers, and the records and hits that cross it."""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from owui.core.errors import UnavailableError
from owui.retrieval.vectors.fusion import depth_for, fuse

Mode = str  # vector | text | hybrid


class VectorStoreError(UnavailableError):
    """The vector store failed or is misconfigured; the message names it."""


@dataclass
class Record:
    """One chunk to store: its collection, the file (or text) it came from, text, vector."""

    id: str
    collection: str
    file_id: str
    text: str
    vector: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def meta_json(self) -> str:
        return json.dumps(self.meta, ensure_ascii=False)


@dataclass
class Hit:
    id: str
    collection: str
    file_id: str
    text: str
    score: float
    meta: dict[str, Any]


def hybrid_depth(k: int) -> int:
    """How many of each list go into the fusion of k hits."""
    return depth_for(k)


def best(hits: list[Hit], k: int) -> list[Hit]:
    """The k best of hits gathered from several tables or collections."""
    return sorted(hits, key=lambda hit: hit.score, reverse=True)[:k]


def meta_from_json(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class VectorStore(ABC):
    name: str

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Begin connecting (in the background: the first call waits for it)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and background work."""

    @abstractmethod
    async def add(self, records: Sequence[Record]) -> None: ...

    @abstractmethod
    async def delete(self, *, collection: str | None = None, file_id: str | None = None) -> int:
        """Delete the rows of a collection, of a file (in every collection), or of a file in
        one collection; return how many went."""

    @abstractmethod
    async def copy(self, source: str, target: str, file_id: str) -> int:
        """Copy a file's rows from one collection into another (no re-embedding)."""

    @abstractmethod
    async def count(self, collection: str) -> int: ...

    @abstractmethod
    async def vector_search(self, collections: Sequence[str], vector: np.ndarray,
                            k: int) -> list[Hit]:
        """Cosine similarity in [0, 1] as the score, best first."""

    @abstractmethod
    async def text_search(self, collections: Sequence[str], query: str, k: int) -> list[Hit]:
        """BM25 from an index kept up to date as rows come and go, best first."""

    async def hybrid_search(self, collections: Sequence[str], vector: np.ndarray, query: str,
                            k: int) -> list[Hit]:
        """Both lists fused (fusion.py); a score of 1 is first in both. Without words to look
        for, the vector search alone."""
        if not query.strip():
            return await self.vector_search(collections, vector, k)
        return await self.fused_search(collections, vector, query, k)

    async def fused_search(self, collections: Sequence[str], vector: np.ndarray, query: str,
                           k: int) -> list[Hit]:
        """hybrid_search for a query with words: both searches at once, fused here (every
        store the same way, as tuned; a store may send both in one request)."""
        depth = hybrid_depth(k)
        dense, sparse = await asyncio.gather(self.vector_search(collections, vector, depth),
                                             self.text_search(collections, query, depth))
        return fuse([dense, sparse], k) if sparse else dense[:k]

    async def search(self, mode: Mode, collections: Sequence[str], vector: np.ndarray | None,
                     query: str, k: int) -> list[Hit]:
        if not collections:
            return []
        if mode == "text":
            return await self.text_search(collections, query, k)
        assert vector is not None
        if mode == "hybrid":
            return await self.hybrid_search(collections, vector, query, k)
        return await self.vector_search(collections, vector, k)

    async def maintain(self) -> None:  # noqa: B027 - optional hook
        """Fold new rows into the indexes (called after ingestion, in the background)."""


class ThreadedStore(VectorStore):
    """A store whose client library is synchronous: the client is made on a worker thread
    after start (the import alone takes a while), and each call runs on a thread; whatever the
    library raises becomes a VectorStoreError that names the store (`label`)."""

    label = "the vector store"

    def __init__(self) -> None:
        self._client: Any = None
        self._opening: asyncio.Future[Any] | None = None

    async def start(self) -> None:
        if self._opening is None:
            self._opening = asyncio.get_running_loop().run_in_executor(None, self._connect)

    @abstractmethod
    def _connect(self) -> Any:
        """Make the client (on a worker thread)."""

    async def _run(self, fn: Any, *args: Any) -> Any:
        try:
            if self._client is None:
                await self.start()
                assert self._opening is not None
                self._client = await asyncio.shield(self._opening)
            return await asyncio.to_thread(fn, *args)
        except VectorStoreError:
            raise
        except Exception as exc:  # client libraries raise many kinds; all mean the store failed
            if self._client is None:
                self._opening = None  # the next call tries to connect again
            raise VectorStoreError(f"{self.label} failed: "
                                   f"{exc.__class__.__name__}: {exc}") from exc
