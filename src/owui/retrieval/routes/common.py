"""What several route modules need: the caller's token, and file deletion."""

from __future__ import annotations

import logging

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.tokens import bearer_token
from owui.retrieval.models import File
from owui.retrieval.runtime import Runtime
from owui.retrieval.storage import StorageError

log = logging.getLogger("owui.retrieval")


def token_of(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization"))


async def delete_file(rt: Runtime, session: AsyncSession, file: File) -> None:
    """Its vectors in every collection, its bytes, then its row (and knowledge links)."""
    await rt.store.delete(file_id=file.id)
    try:
        await rt.storage.delete(file.path)
    except (OSError, StorageError, RuntimeError) as exc:
        log.warning("could not delete the stored bytes of file %s: %s", file.id, exc)
    await session.delete(file)
    await session.commit()
