"""Folders: nested per user; names unique among siblings; no folder inside its own subtree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.crud import grants as grant_rows
from owui.chat.errors import FolderCycle, FolderNameTaken, FolderNotFound
from owui.chat.models import Chat, Folder
from owui.core.access import Access


async def require(session: AsyncSession, folder_id: str, user_id: str) -> Folder:
    folder = await session.scalar(select(Folder).where(Folder.id == folder_id,
                                                       Folder.user_id == user_id))
    if folder is None:
        raise FolderNotFound(folder_id)
    return folder


async def list_all(session: AsyncSession, user_id: str) -> list[Folder]:
    statement = select(Folder).where(Folder.user_id == user_id)
    return list(await session.scalars(statement.order_by(Folder.created_at, Folder.id)))


async def check_name_free(session: AsyncSession, user_id: str, parent_id: str | None,
                          name: str, except_id: str | None = None) -> None:
    statement = select(Folder.id).where(Folder.user_id == user_id,
                                        func.lower(Folder.name) == name.lower())
    statement = statement.where(Folder.parent_id.is_(None) if parent_id is None
                                else Folder.parent_id == parent_id)
    if except_id is not None:
        statement = statement.where(Folder.id != except_id)
    if await session.scalar(statement.limit(1)) is not None:
        raise FolderNameTaken(name)


async def create(session: AsyncSession, user_id: str, *, name: str, parent_id: str | None,
                 data: dict[str, Any] | None, meta: dict[str, Any] | None) -> Folder:
    if parent_id is not None:
        await require(session, parent_id, user_id)
    await check_name_free(session, user_id, parent_id, name)
    folder = Folder(user_id=user_id, parent_id=parent_id, name=name, data=data, meta=meta,
                    is_expanded=False)
    session.add(folder)
    return folder


async def subtree_ids(session: AsyncSession, folder_id: str, user_id: str) -> list[str]:
    """The folder and every folder below it."""
    down = (select(Folder.id).where(Folder.id == folder_id, Folder.user_id == user_id)
            .cte("down", recursive=True))
    child = Folder.__table__.alias("child")
    down = down.union_all(select(child.c.id).where(child.c.parent_id == down.c.id))
    return list(await session.scalars(select(down.c.id)))


async def move(session: AsyncSession, folder: Folder, parent_id: str | None) -> None:
    if parent_id is not None:
        await require(session, parent_id, folder.user_id)
        if parent_id in await subtree_ids(session, folder.id, folder.user_id):
            raise FolderCycle(folder.id)
    await check_name_free(session, folder.user_id, parent_id, folder.name, except_id=folder.id)
    folder.parent_id = parent_id


async def remove(session: AsyncSession, folder: Folder, *, delete_contents: bool) -> list[str]:
    """Delete the folder and its subfolders; their chats go too, or move out to the top."""
    ids = await subtree_ids(session, folder.id, folder.user_id)
    in_folders = (Chat.user_id == folder.user_id, Chat.folder_id.in_(ids))
    if delete_contents:
        chat_ids = list(await session.scalars(select(Chat.id).where(*in_folders)))
        await grant_rows.drop(session, grant_rows.SHARED_CHAT, chat_ids)
        await session.execute(delete(Chat).where(*in_folders))
    else:
        await session.execute(update(Chat).where(*in_folders).values(folder_id=None))
    await session.execute(delete(Folder).where(Folder.user_id == folder.user_id,
                                               Folder.id.in_(ids)))
    await grant_rows.drop(session, grant_rows.FOLDER, ids)
    return ids


async def ancestors(session: AsyncSession, folder: Folder) -> list[str]:
    """The folder and every folder above it, nearest first."""
    found: list[str] = []
    current: str | None = folder.id
    while current is not None and current not in found:
        found.append(current)
        current = await session.scalar(select(Folder.parent_id).where(Folder.id == current))
    return found


async def permission_of(session: AsyncSession, folder: Folder, access: Access) -> str | None:
    """'write' for the owner, else what a grant on the folder or a folder above it gives the
    caller ('write', 'read'), else None."""
    if folder.user_id == access.user_id:
        return "write"
    permission = None
    for folder_id in await ancestors(session, folder):
        if await grant_rows.granted(session, grant_rows.FOLDER, folder_id, access, "write"):
            return "write"
        if await grant_rows.granted(session, grant_rows.FOLDER, folder_id, access):
            permission = "read"
    return permission


async def require_readable(session: AsyncSession, folder_id: str, access: Access
                           ) -> tuple[Folder, str]:
    """A folder the caller owns or was granted, and their permission on it; else 404."""
    folder = await session.scalar(select(Folder).where(Folder.id == folder_id))
    permission = await permission_of(session, folder, access) if folder is not None else None
    if folder is None or permission is None:
        raise FolderNotFound(folder_id)
    return folder, permission


async def shared_with(session: AsyncSession, access: Access) -> list[tuple[Folder, str]]:
    """Other users' folders granted to the caller, and the folders below them, each with the
    caller's permission (a write grant above wins over a read grant below)."""
    readable = await grant_rows.granted_ids(session, grant_rows.FOLDER, access)
    writable = set(await grant_rows.granted_ids(session, grant_rows.FOLDER, access, "write"))
    found: dict[str, tuple[Folder, str]] = {}
    for folder_id in readable:
        top = await session.scalar(select(Folder).where(Folder.id == folder_id))
        if top is None or top.user_id == access.user_id:
            continue
        permission = "write" if folder_id in writable else "read"
        for below in await subtree_ids(session, folder_id, top.user_id):
            folder = await session.scalar(select(Folder).where(Folder.id == below))
            if folder is not None and (below not in found or permission == "write"):
                found[below] = (folder, permission)
    return sorted(found.values(), key=lambda pair: (pair[0].created_at, pair[0].id))


async def count_chats(session: AsyncSession, folder_id: str) -> int:
    statement = select(func.count()).where(Chat.folder_id == folder_id, Chat.archived.is_(False))
    return int(await session.scalar(statement) or 0)


async def holds_chats(session: AsyncSession, folder: Folder) -> bool:
    """Are there chats in the folder or below it?"""
    ids = await subtree_ids(session, folder.id, folder.user_id)
    found = await session.scalar(select(Chat.id).where(Chat.user_id == folder.user_id,
                                                       Chat.folder_id.in_(ids)).limit(1))
    return found is not None
