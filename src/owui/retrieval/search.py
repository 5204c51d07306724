"""Search a set of collections: vector, full text (BM25) or hybrid (both fused, fusion.py),
with top-k and a relevance threshold. The query is embedded here, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from owui.core import tracing
from owui.retrieval.external import Target, retrieve
from owui.retrieval.runtime import Runtime
from owui.retrieval.vectors import Hit
from owui.retrieval.vectors.base import hybrid_depth
from owui.retrieval.vectors.fusion import fuse

Mode = Literal["vector", "text", "hybrid"]


def pick_mode(rt: Runtime, hybrid: bool | None, mode: Mode | None = None) -> Mode:
    if mode is not None:
        return mode
    wanted = rt.settings.enable_rag_hybrid_search if hybrid is None else hybrid
    return "hybrid" if wanted else "vector"


async def search(rt: Runtime, keys: Sequence[str], query: str, *, k: int | None = None,
                 r: float | None = None, mode: Mode = "vector", token: str | None = None,
                 external: Sequence[Target] = ()) -> list[Hit]:
    """The k best of owui's own collections (`keys`) and of external ones (searched where they
    are, by vector whatever the mode: an external store is only asked for nearest vectors)."""
    k = k or rt.settings.rag_top_k
    if not external:
        return await _own(rt, keys, query, k=k, r=r, mode=mode, token=token)
    vector = await rt.embedder.embed_query(query, token=token)
    found = await asyncio.gather(
        _own(rt, keys, query, k=k, r=r, mode=mode, token=token, vector=vector),
        *(retrieve(rt.http, target, vector.tolist(), k) for target in external))
    return sorted((hit for hits in found for hit in hits), key=lambda hit: hit.score,
                  reverse=True)[:k]


async def _own(rt: Runtime, keys: Sequence[str], query: str, *, k: int, r: float | None,
               mode: Mode, token: str | None, vector: np.ndarray | None = None) -> list[Hit]:
    if not keys:
        return []
    threshold = rt.settings.rag_relevance_threshold if r is None else r
    # Hybrid: the full-text side needs no embedding, so it runs while the query is embedded
    # (then hybrid costs about what vector search does).
    text: asyncio.Task[list[Hit]] | None = None
    if mode == "hybrid" and keys and query.strip():
        text = asyncio.create_task(rt.store.text_search(keys, query, hybrid_depth(k)))
    try:
        if mode == "text":
            vector = None
        elif vector is None:
            with tracing.span("retrieval.embed_query", **{"owui.embedding.model":
                                                          rt.settings.embedding_model}):
                vector = await rt.embedder.embed_query(query, token=token)
        with tracing.span("retrieval.vector_search", **{
                "owui.search.mode": mode, "owui.search.k": k,
                "owui.search.collections": len(keys), "db.system": rt.settings.vector_db}
                ) as span:
            if text is not None:
                assert vector is not None
                dense = await rt.store.vector_search(keys, vector, hybrid_depth(k))
                sparse = await text  # none: no word BM25 counts; the vector search alone
                hits = fuse([dense, sparse], k) if sparse else dense[:k]
            else:
                hits = await rt.store.search(mode, keys, vector, query, k)
            tracing.set_attributes(span, **{"owui.search.hits": len(hits)})
    finally:
        if text is not None and not text.done():
            text.cancel()
    if mode == "text":  # BM25 scores have no fixed scale: the threshold does not apply
        return hits
    return [hit for hit in hits if hit.score >= threshold]


def hit_metadata(hit: Hit) -> dict[str, Any]:
    return {**hit.meta, "collection_name": hit.collection, "file_id": hit.file_id,
            "score": hit.score}


def owui_result(hits: Sequence[Hit]) -> dict[str, list[list[Any]]]:
    """Open WebUI's (Chroma-like) answer: one inner list per query."""
    return {"distances": [[hit.score for hit in hits]],
            "documents": [[hit.text for hit in hits]],
            "metadatas": [[hit_metadata(hit) for hit in hits]]}


def hit_view(hit: Hit) -> dict[str, Any]:
    return {"text": hit.text, "score": hit.score, "source": hit.meta.get("source"),
            "name": hit.meta.get("name"), "page": hit.meta.get("page"),
            "section": hit.meta.get("section"), "url": hit.meta.get("url"),
            "chunk_index": hit.meta.get("chunk_index"), "file_id": hit.file_id,
            "collection": hit.collection}
