"""From text to stored vectors: chunk, embed in batches, then write all rows at once, so a
document is either fully indexed or not at all; and the store's index upkeep after writes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from owui.core import tracing
from owui.retrieval.chunking import Chunk, Chunker
from owui.retrieval.embeddings import Embedder
from owui.retrieval.extract import Section
from owui.retrieval.tasks import Tasks
from owui.retrieval.vectors import Record, VectorStore

log = logging.getLogger("owui.retrieval")
Progress = Callable[[int], Awaitable[None]]
MAINTAIN_DELAY = 2.0


class Pipeline:
    def __init__(self, chunker: Chunker, embedder: Embedder, store: VectorStore,
                 tasks: Tasks) -> None:
        self.chunker = chunker
        self.embedder = embedder
        self.store = store
        self.tasks = tasks
        self.ingesting = 0  # documents being embedded and written right now
        self._maintenance: asyncio.Task[None] | None = None

    async def chunk(self, sections: list[Section]) -> list[Chunk]:
        return await asyncio.to_thread(self.chunker.split, sections)

    async def embed_and_store(self, collection: str, file_id: str, chunks: list[Chunk],
                              base_meta: dict[str, Any], *, token: str | None,
                              progress: Progress | None = None) -> int:
        """Replace the file's rows in the collection with these chunks; all or nothing."""
        self.ingesting += 1
        try:
            return await self._embed_and_store(collection, file_id, chunks, base_meta,
                                               token=token, progress=progress)
        finally:
            self.ingesting -= 1

    async def _embed_and_store(self, collection: str, file_id: str, chunks: list[Chunk],
                               base_meta: dict[str, Any], *, token: str | None,
                               progress: Progress | None) -> int:
        with tracing.span("retrieval.embed", **{"owui.embedding.chunks": len(chunks),
                                                "owui.collection": collection}):
            vectors = await self.embedder.embed([c.text for c in chunks], token=token,
                                                progress=progress)
        records = [Record(uuid.uuid4().hex, collection, file_id, chunk.text, vector,
                          {**base_meta, **chunk.meta})
                   for chunk, vector in zip(chunks, vectors, strict=True)]
        await self.store.delete(collection=collection, file_id=file_id)
        try:
            await self.store.add(records)
        except BaseException:
            await asyncio.shield(self.store.delete(collection=collection, file_id=file_id))
            raise
        self.request_maintenance()
        return len(records)

    def request_maintenance(self) -> None:
        """Fold new rows into the store's indexes soon, once, whatever the number of calls."""
        if self._maintenance is None or self._maintenance.done():
            self._maintenance = self.tasks.spawn(self._maintain(), "vector-maintenance")

    async def _maintain(self) -> None:
        # Index upkeep competes with embedding for the cores: wait for a quiet moment. New
        # rows are searchable meanwhile (LanceDB scans what its indexes do not cover yet).
        quiet = False
        while not quiet:
            await asyncio.sleep(MAINTAIN_DELAY)
            quiet = self.ingesting == 0
        try:
            await self.store.maintain()
        except Exception:  # upkeep failing must not take anything else down
            log.exception("vector store maintenance failed")


def sections_text(sections: list[Section]) -> str:
    return "\n\n".join(section.text for section in sections)
