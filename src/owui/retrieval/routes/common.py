"""What several route modules need: file deletion, a collection's full view, paging."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.tokens import Claims
from owui.retrieval import crud
from owui.retrieval.access import can_write
from owui.retrieval.models import File, Knowledge
from owui.retrieval.runtime import Runtime
from owui.retrieval.schemas import file_metadata_view, knowledge_view
from owui.retrieval.storage import StorageError

log = logging.getLogger("owui.retrieval")

# Open WebUI's `page` (1 and up; a page past the end answers no items).
Page = Annotated[int, Query(ge=1, le=1_000_000)]


async def delete_file(rt: Runtime, session: AsyncSession, file: File) -> None:
    """Its vectors in every collection, its bytes, then its row (and knowledge links)."""
    await rt.store.delete(file_id=file.id)
    try:
        await rt.storage.delete(file.path)
    except (OSError, StorageError, RuntimeError) as exc:
        log.warning("could not delete the stored bytes of file %s: %s", file.id, exc)
    await session.delete(file)
    await session.commit()


async def full_view(session: AsyncSession, user: Claims, knowledge: Knowledge,
                    ) -> dict[str, Any]:
    """Open WebUI's KnowledgeFilesResponse: the collection, its files, the caller's rights."""
    grants = (await crud.grants_for(session, "knowledge", [knowledge.id]))[knowledge.id]
    files = await crud.knowledge_files(session, knowledge.id)
    return knowledge_view(knowledge, grants, files=[file_metadata_view(f) for f in files],
                          write_access=await can_write(session, user, knowledge))
