"""From text to stored vectors: chunk, embed in batches, then write all rows at once, so a
document is either fully indexed or not at all."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from owui.retrieval.chunking import Chunk
from owui.retrieval.extract import Section
from owui.retrieval.runtime import Runtime
from owui.retrieval.vectors import Record

Progress = Callable[[int], Awaitable[None]]


async def chunk_sections(rt: Runtime, sections: list[Section]) -> list[Chunk]:
    return await asyncio.to_thread(rt.chunker.split, sections)


async def embed_and_store(rt: Runtime, collection: str, file_id: str, chunks: list[Chunk],
                          base_meta: dict[str, Any], *, token: str | None,
                          progress: Progress | None = None) -> int:
    """Replace the file's rows in the collection with these chunks; all or nothing."""
    rt.ingesting += 1
    try:
        return await _embed_and_store(rt, collection, file_id, chunks, base_meta, token=token,
                                      progress=progress)
    finally:
        rt.ingesting -= 1


async def _embed_and_store(rt: Runtime, collection: str, file_id: str, chunks: list[Chunk],
                           base_meta: dict[str, Any], *, token: str | None,
                           progress: Progress | None) -> int:
    vectors = await rt.embedder.embed([c.text for c in chunks], token=token, progress=progress)
    records = [Record(uuid.uuid4().hex, collection, file_id, chunk.text, vector,
                      {**base_meta, **chunk.meta})
               for chunk, vector in zip(chunks, vectors, strict=True)]
    await rt.store.delete(collection=collection, file_id=file_id)
    try:
        await rt.store.add(records)
    except BaseException:
        await asyncio.shield(rt.store.delete(collection=collection, file_id=file_id))
        raise
    rt.request_maintenance()
    return len(records)


def sections_text(sections: list[Section]) -> str:
    return "\n\n".join(section.text for section in sections)
