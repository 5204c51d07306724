"""Open WebUI's index of the collections themselves: each collection's name and description
(the name, a blank line, the description) embedded, one row per collection, so that a
collection can be found by what it is about (Open WebUI's built-in `query_knowledge_bases`
tool reads its own). It lives in the vector store under a key of its own that no name a
client sends resolves to.

`POST /api/v1/knowledge/metadata/reindex` (admin) writes it whole again: every collection,
embedded in one batch, then the old rows replaced, so it never holds half of a run."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.retrieval.models import Knowledge
from owui.retrieval.runtime import Runtime
from owui.retrieval.vectors import Record

INDEX = "owui:knowledge-bases"


def indexed_text(knowledge: Knowledge) -> str:
    return f"{knowledge.name}\n\n{knowledge.description}" if knowledge.description \
        else knowledge.name


async def reindex(rt: Runtime, session: AsyncSession, token: str) -> dict[str, Any]:
    """Open WebUI's answer: how many collections there are and how many were embedded."""
    found = list((await session.scalars(select(Knowledge).order_by(Knowledge.created_at,
                                                                    Knowledge.id))).all())
    texts = [indexed_text(k) for k in found]
    vectors = await rt.embedder.embed(texts, token=token) if found else []
    records = [Record(uuid.uuid4().hex, INDEX, k.id, text, vector,
                      {"knowledge_base_id": k.id, "name": k.name})
               for k, text, vector in zip(found, texts, vectors, strict=True)]
    await rt.store.delete(collection=INDEX)
    if records:
        await rt.store.add(records)
    return {"total": len(found), "success": len(records)}
