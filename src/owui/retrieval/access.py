"""Who sees what: a user reaches their own files and collections, collections shared with them,
and files inside those; an admin reaches everything. Anything else is 404, as if absent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.errors import BadRequestError, ForbiddenError, NotFoundError
from owui.core.tokens import Claims
from owui.retrieval import crud
from owui.retrieval.groups import caller_groups
from owui.retrieval.models import AccessGrant, File, Knowledge, KnowledgeDirectory

FILE_PREFIX = "file-"


def file_key(file_id: str) -> str:
    return f"{FILE_PREFIX}{file_id}"


def named_key(kind: str, user_id: str, name: str) -> str:
    return f"{kind}:{user_id}:{name}"


def principal_matches(user_id: str) -> Any:
    """A grant to the user, to everyone ('*'), or to one of the caller's groups."""
    mine = and_(AccessGrant.principal_type == "user",
                AccessGrant.principal_id.in_([user_id, "*"]))
    groups = caller_groups()
    if not groups:
        return mine
    return or_(mine, and_(AccessGrant.principal_type == "group",
                          AccessGrant.principal_id.in_(sorted(groups))))


async def _grant(session: AsyncSession, user: Claims, knowledge_id: str,
                 permissions: Sequence[str]) -> bool:
    found = await session.scalar(select(AccessGrant.id).where(
        AccessGrant.resource_type == "knowledge", AccessGrant.resource_id == knowledge_id,
        principal_matches(user.sub), AccessGrant.permission.in_(permissions)).limit(1))
    return found is not None


async def can_read(session: AsyncSession, user: Claims, knowledge: Knowledge) -> bool:
    return (user.is_admin or knowledge.user_id == user.sub
            or await _grant(session, user, knowledge.id, ("read", "write")))


async def can_write(session: AsyncSession, user: Claims, knowledge: Knowledge) -> bool:
    return (user.is_admin or knowledge.user_id == user.sub
            or await _grant(session, user, knowledge.id, ("write",)))


async def knowledge_for(session: AsyncSession, user: Claims, knowledge_id: str, *,
                        write: bool = False, content: bool = True) -> Knowledge:
    """The collection the caller may read (or write); `content=False` for a write that
    leaves its files alone (name, access), which a collection on an external source takes."""
    knowledge = await crud.get_knowledge(session, knowledge_id)
    if knowledge is None or not await can_read(session, user, knowledge):
        raise NotFoundError(f"Knowledge collection '{knowledge_id}' not found.")
    if write and not await can_write(session, user, knowledge):
        raise ForbiddenError("You may read this knowledge collection but not change it.")
    if write and content and (knowledge.meta or {}).get("source") == "external":
        raise BadRequestError("External knowledge bases are read-only: their documents live "
                              "in the external source.")
    return knowledge


async def can_read_file(session: AsyncSession, user: Claims, file: File) -> bool:
    if user.is_admin or file.user_id == user.sub:
        return True
    for knowledge_id in await crud.knowledge_ids_of_file(session, file.id):
        knowledge = await crud.get_knowledge(session, knowledge_id)
        if knowledge is not None and await can_read(session, user, knowledge):
            return True
    return False


async def file_for(session: AsyncSession, user: Claims, file_id: str, *,
                   write: bool = False) -> File:
    file = await crud.get_file(session, file_id)
    if file is None or not await can_read_file(session, user, file):
        raise NotFoundError(f"File '{file_id}' not found.")
    if write and not (user.is_admin or file.user_id == user.sub):
        raise ForbiddenError("Only the file's owner or an admin may change it.")
    return file


async def check_upload_target(session: AsyncSession, user: Claims,
                              metadata: dict[str, Any]) -> None:
    """An upload's `knowledge_id` (and `directory_id`): the collection must be writable by
    the caller (404 unseen, 403 read-only), the folder one of its own (404)."""
    knowledge_id = metadata.get("knowledge_id")
    if knowledge_id is None:
        return
    if not isinstance(knowledge_id, str) or not knowledge_id:
        raise BadRequestError("The metadata's 'knowledge_id' must be a collection id.")
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    directory_id = metadata.get("directory_id")
    if directory_id is None or directory_id == "":
        return
    found = await session.get(KnowledgeDirectory, directory_id) if isinstance(
        directory_id, str) else None
    if found is None or found.knowledge_id != knowledge.id:
        raise NotFoundError(f"Directory '{directory_id}' not found in this collection.")


async def resolve(session: AsyncSession, user: Claims, names: Sequence[str]) -> list[str]:
    """Collection names as clients know them (knowledge ids, 'file-<id>', names given to
    process/text or web search) to the keys the vector store knows; 404 names the unknown."""
    keys: list[str] = []
    for name in names:
        keys.append(await _resolve_one(session, user, name))
    return list(dict.fromkeys(keys))


async def _resolve_one(session: AsyncSession, user: Claims, name: str) -> str:
    knowledge = await crud.get_knowledge(session, name)
    if knowledge is not None and await can_read(session, user, knowledge):
        return knowledge.id
    if name.startswith(FILE_PREFIX):
        file = await crud.get_file(session, name[len(FILE_PREFIX):])
        if file is not None and await can_read_file(session, user, file):
            return name
    collection = await crud.get_collection(session, user.sub, name)
    if collection is not None:
        return collection.key
    raise NotFoundError(f"Collection '{name}' not found.")


async def file_keys(session: AsyncSession, user: Claims, file_ids: Sequence[str]) -> list[str]:
    keys = []
    for file_id in file_ids:
        await file_for(session, user, file_id)
        keys.append(file_key(file_id))
    return keys

