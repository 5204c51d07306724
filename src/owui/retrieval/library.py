"""Reads and writes of the 0.12 Knowledge pages: collections searched and paged, a collection's
files paged within its folders, files still being processed for it, and its folders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.errors import BadRequestError, NotFoundError
from owui.retrieval.access import principal_matches
from owui.retrieval.crud import PAGE_SIZE, touch_knowledge
from owui.retrieval.models import AccessGrant, File, Knowledge, KnowledgeDirectory, KnowledgeFile

MAX_PAGE = 1_000_000
ORDER = {"name": "name", "created_at": "created_at", "updated_at": "updated_at"}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible_condition(user_id: str | None) -> Any:
    """The collections a user sees: their own and those shared (None: an admin, all)."""
    if user_id is None:
        return True
    shared = select(AccessGrant.resource_id).where(
        AccessGrant.resource_type == "knowledge", principal_matches(user_id))
    return or_(Knowledge.user_id == user_id, Knowledge.id.in_(shared))


async def search_knowledge(session: AsyncSession, user_id: str, admin: bool, *,
                           query: str | None, view: str | None, order_by: str | None,
                           direction: str | None, page: int,
                           source: str | None = None) -> tuple[list[Knowledge], int]:
    condition = visible_condition(None if admin else user_id)
    if source in ("local", "external"):  # an external source's collection (external/)
        external = Knowledge.meta["source"].as_string() == "external"
        condition = and_(condition, external if source == "external"
                         else or_(Knowledge.meta.is_(None), ~external,
                                  Knowledge.meta["source"].as_string().is_(None)))
    if query:
        condition = and_(condition, or_(Knowledge.name.ilike(_like(query), escape="\\"),
                                        Knowledge.description.ilike(_like(query), escape="\\")))
    if view == "created":
        condition = and_(condition, Knowledge.user_id == user_id)
    elif view == "shared":
        condition = and_(condition, Knowledge.user_id != user_id)
    column = getattr(Knowledge, ORDER.get(order_by or "", "updated_at"))
    ordering = column.asc() if direction == "asc" else column.desc()
    statement = select(Knowledge).where(condition).order_by(ordering, Knowledge.id)
    return await _paged(session, statement, page)


async def _paged(session: AsyncSession, statement: Select[Any], page: int,
                 size: int = PAGE_SIZE) -> tuple[list[Any], int]:
    total = (await session.execute(select(func.count()).select_from(statement.subquery()))
             ).scalar_one()
    rows = await session.execute(statement.offset((page - 1) * size).limit(size))
    return [row[0] if len(row) == 1 else tuple(row) for row in rows.all()], total


async def knowledge_files(session: AsyncSession, knowledge_id: str, *, query: str | None,
                          content: bool, directory: str | None, scoped: bool,
                          order_by: str | None, direction: str | None, page: int,
                          size: int = PAGE_SIZE) -> tuple[list[tuple[File, str | None]], int]:
    """A page of the collection's files with their folder; `scoped`: only those directly in
    `directory` (None: the top)."""
    statement = (select(File, KnowledgeFile.directory_id)
                 .join(KnowledgeFile, KnowledgeFile.file_id == File.id)
                 .where(KnowledgeFile.knowledge_id == knowledge_id))
    if scoped:
        statement = statement.where(KnowledgeFile.directory_id == directory if directory
                                    else KnowledgeFile.directory_id.is_(None))
    statement = statement.where(*_file_match(query, content))
    column = File.filename if order_by == "name" else getattr(
        File, ORDER.get(order_by or "", "updated_at"))
    ordering = column.asc() if direction == "asc" else column.desc()
    return await _paged(session, statement.order_by(ordering, File.id), page, size)


def _file_match(query: str | None, content: bool) -> list[Any]:
    if not query:
        return []
    pattern = _like(query)
    if content:
        return [or_(File.filename.ilike(pattern, escape="\\"),
                    func.substr(File.content, 1, 200_000).ilike(pattern, escape="\\"))]
    return [File.filename.ilike(pattern, escape="\\")]


async def files_across(session: AsyncSession, user_id: str, admin: bool, *,
                       query: str | None, content: bool, page: int,
                       ) -> tuple[list[tuple[File, str | None, Knowledge]], int]:
    """Files of every collection the user sees (the `#` picker's file search)."""
    statement = (select(File, KnowledgeFile.directory_id, Knowledge)
                 .join(KnowledgeFile, KnowledgeFile.file_id == File.id)
                 .join(Knowledge, Knowledge.id == KnowledgeFile.knowledge_id)
                 .where(visible_condition(None if admin else user_id),
                        *_file_match(query, content))
                 .order_by(File.updated_at.desc(), File.id))
    return await _paged(session, statement, page)


async def pending_files(session: AsyncSession, knowledge_id: str) -> list[File]:
    """Uploaded for the collection (`metadata.knowledge_id`) and still being processed: they
    join it when processing ends."""
    linked = select(KnowledgeFile.file_id).where(KnowledgeFile.knowledge_id == knowledge_id)
    rows = await session.scalars(select(File).where(
        File.meta["data"]["knowledge_id"].as_string() == knowledge_id,
        File.status == "pending", File.id.not_in(linked)).order_by(File.created_at.desc()))
    return list(rows.all())


async def set_file_directory(session: AsyncSession, knowledge_id: str, file_id: str,
                             directory_id: str | None) -> bool:
    result = await session.execute(update(KnowledgeFile).where(
        KnowledgeFile.knowledge_id == knowledge_id, KnowledgeFile.file_id == file_id)
        .values(directory_id=directory_id))
    return bool(result.rowcount)


# folders


async def directories(session: AsyncSession, knowledge_id: str) -> list[KnowledgeDirectory]:
    rows = await session.scalars(select(KnowledgeDirectory).where(
        KnowledgeDirectory.knowledge_id == knowledge_id).order_by(KnowledgeDirectory.name))
    return list(rows.all())


async def directory_in(session: AsyncSession, knowledge_id: str,
                       directory_id: str | None) -> KnowledgeDirectory | None:
    """The folder (None for the top); 404 when it is not one of this collection's."""
    if not directory_id:
        return None
    found = await session.get(KnowledgeDirectory, directory_id)
    if found is None or found.knowledge_id != knowledge_id:
        raise NotFoundError(f"Directory '{directory_id}' not found in this collection.")
    return found


async def check_name_free(session: AsyncSession, knowledge_id: str, parent_id: str | None,
                          name: str, own_id: str | None = None) -> None:
    same = await session.scalar(select(KnowledgeDirectory.id).where(
        KnowledgeDirectory.knowledge_id == knowledge_id,
        KnowledgeDirectory.parent_id.is_(None) if parent_id is None
        else KnowledgeDirectory.parent_id == parent_id,
        func.lower(KnowledgeDirectory.name) == name.lower()).limit(1))
    if same is not None and same != own_id:
        raise BadRequestError(f"A directory named '{name}' is already there.")


def subtree(all_dirs: Sequence[KnowledgeDirectory], root_id: str) -> list[str]:
    """root_id and every folder below it."""
    children: dict[str | None, list[str]] = {}
    for directory in all_dirs:
        children.setdefault(directory.parent_id, []).append(directory.id)
    found, stack = [], [root_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def paths(all_dirs: Sequence[KnowledgeDirectory]) -> dict[str, str]:
    """Each folder's path from the top, 'a/b/c'."""
    by_id = {d.id: d for d in all_dirs}
    found: dict[str, str] = {}
    for directory in all_dirs:
        names, seen, current = [], set(), directory.id
        while current in by_id and current not in seen:
            seen.add(current)
            names.append(by_id[current].name)
            current = by_id[current].parent_id
        found[directory.id] = "/".join(reversed(names))
    return found


def breadcrumbs(all_dirs: Sequence[KnowledgeDirectory],
                directory_id: str | None) -> list[KnowledgeDirectory]:
    by_id = {d.id: d for d in all_dirs}
    trail, seen, current = [], set(), directory_id
    while current in by_id and current not in seen:
        seen.add(current)
        trail.append(by_id[current])
        current = by_id[current].parent_id
    return list(reversed(trail))


async def move_files_up(session: AsyncSession, knowledge_id: str, directory_ids: list[str],
                        parent_id: str | None) -> None:
    await session.execute(update(KnowledgeFile).where(
        KnowledgeFile.knowledge_id == knowledge_id,
        KnowledgeFile.directory_id.in_(directory_ids)).values(directory_id=parent_id))
    await touch_knowledge(session, knowledge_id)


async def files_in_directories(session: AsyncSession, knowledge_id: str,
                               directory_ids: list[str]) -> list[str]:
    rows = await session.scalars(select(KnowledgeFile.file_id).where(
        KnowledgeFile.knowledge_id == knowledge_id,
        KnowledgeFile.directory_id.in_(directory_ids)))
    return list(rows.all())
