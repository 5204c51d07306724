"""What several route modules need: file deletion."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from owui.retrieval.models import File
from owui.retrieval.runtime import Runtime
from owui.retrieval.storage import StorageError

log = logging.getLogger("owui.retrieval")


async def delete_file(rt: Runtime, session: AsyncSession, file: File) -> None:
    """Its vectors in every collection, its bytes, then its row (and knowledge links)."""
    await rt.store.delete(file_id=file.id)
    try:
        await rt.storage.delete(file.path)
    except (OSError, StorageError, RuntimeError) as exc:
        log.warning("could not delete the stored bytes of file %s: %s", file.id, exc)
    await session.delete(file)
    await session.commit()
