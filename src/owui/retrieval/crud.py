"""Database reads and writes of the retrieval service. Visibility rules live in access.py."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.retrieval.models import AccessGrant, Collection, File, Job, Knowledge, KnowledgeFile

PAGE_SIZE = 30

# files


async def get_file(session: AsyncSession, file_id: str) -> File | None:
    return await session.get(File, file_id)


async def list_files(session: AsyncSession, user_id: str | None, page: int | None,
                     ) -> tuple[list[File], int]:
    query = select(File)
    counter = select(func.count()).select_from(File)
    if user_id is not None:
        query = query.where(File.user_id == user_id)
        counter = counter.where(File.user_id == user_id)
    query = query.order_by(File.created_at.desc(), File.id)
    if page is not None:
        query = query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    total = (await session.execute(counter)).scalar_one()
    return list((await session.scalars(query)).all()), total


async def set_file_status(session: AsyncSession, file_id: str, status: str,
                          error: str | None = None, content: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "error": error, "updated_at": int(time.time())}
    if content is not None:
        values["content"] = content
    await session.execute(update(File).where(File.id == file_id).values(**values))
    await session.commit()


async def knowledge_ids_of_file(session: AsyncSession, file_id: str) -> list[str]:
    rows = await session.scalars(select(KnowledgeFile.knowledge_id)
                                 .where(KnowledgeFile.file_id == file_id))
    return list(rows.all())


# knowledge


async def get_knowledge(session: AsyncSession, knowledge_id: str) -> Knowledge | None:
    return await session.get(Knowledge, knowledge_id)


async def knowledge_files(session: AsyncSession, knowledge_id: str) -> list[File]:
    rows = await session.scalars(
        select(File).join(KnowledgeFile, KnowledgeFile.file_id == File.id)
        .where(KnowledgeFile.knowledge_id == knowledge_id).order_by(KnowledgeFile.created_at))
    return list(rows.all())


async def file_counts(session: AsyncSession, ids: Sequence[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(KnowledgeFile.knowledge_id, func.count()).where(KnowledgeFile.knowledge_id.in_(ids))
        .group_by(KnowledgeFile.knowledge_id))
    return {row[0]: row[1] for row in rows}


async def link_file(session: AsyncSession, knowledge_id: str, file_id: str,
                    directory_id: str | None = None) -> bool:
    """Add the file to the collection, for the caller to commit; False when it was there
    already. The row is flushed: a second add of the same file waits for this one's commit
    (and then fails on the key) instead of copying the file's rows a second time."""
    if await session.get(KnowledgeFile, (knowledge_id, file_id)) is not None:
        return False
    session.add(KnowledgeFile(knowledge_id=knowledge_id, file_id=file_id,
                              directory_id=directory_id))
    await touch_knowledge(session, knowledge_id)
    await session.flush()
    return True


async def unlink_file(session: AsyncSession, knowledge_id: str, file_id: str) -> bool:
    result = await session.execute(delete(KnowledgeFile).where(
        KnowledgeFile.knowledge_id == knowledge_id, KnowledgeFile.file_id == file_id))
    await touch_knowledge(session, knowledge_id)
    await session.commit()
    return bool(result.rowcount)


async def touch_knowledge(session: AsyncSession, knowledge_id: str) -> None:
    await session.execute(update(Knowledge).where(Knowledge.id == knowledge_id)
                          .values(updated_at=int(time.time())))


# access grants


async def grants_for(session: AsyncSession, resource_type: str,
                     ids: Sequence[str]) -> dict[str, list[AccessGrant]]:
    found: dict[str, list[AccessGrant]] = {i: [] for i in ids}
    if ids:
        rows = await session.scalars(select(AccessGrant).where(
            AccessGrant.resource_type == resource_type, AccessGrant.resource_id.in_(ids))
            .order_by(AccessGrant.created_at, AccessGrant.id))
        for grant in rows:
            found[grant.resource_id].append(grant)
    return found


async def replace_grants(session: AsyncSession, resource_type: str, resource_id: str,
                         grants: Sequence[dict[str, str]]) -> None:
    await session.execute(delete(AccessGrant).where(AccessGrant.resource_type == resource_type,
                                                    AccessGrant.resource_id == resource_id))
    for grant in grants:
        session.add(AccessGrant(resource_type=resource_type, resource_id=resource_id, **grant))


# named collections


async def get_collection(session: AsyncSession, user_id: str, name: str) -> Collection | None:
    return await session.scalar(select(Collection).where(Collection.user_id == user_id,
                                                         Collection.name == name))


async def expired_collections(session: AsyncSession, now: float) -> list[Collection]:
    rows = await session.scalars(select(Collection).where(Collection.expires_at.is_not(None),
                                                          Collection.expires_at < now))
    return list(rows.all())


# jobs


async def get_job(session: AsyncSession, job_id: str) -> Job | None:
    return await session.get(Job, job_id)


async def update_job(session: AsyncSession, job_id: str, *, commit: bool = True,
                     **values: Any) -> None:
    await session.execute(update(Job).where(Job.id == job_id)
                          .values(updated_at=time.time(), **values))
    if commit:
        await session.commit()


async def unfinished_jobs(session: AsyncSession) -> list[Job]:
    rows = await session.scalars(select(Job).where(Job.status.in_(("queued", "running")))
                                 .order_by(Job.created_at))
    return list(rows.all())
