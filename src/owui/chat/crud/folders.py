"""Folders: nested per user; names unique among siblings; no folder inside its own subtree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.errors import FolderCycle, FolderNameTaken, FolderNotFound
from owui.chat.models import Chat, Folder


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
        await session.execute(delete(Chat).where(*in_folders))
    else:
        await session.execute(update(Chat).where(*in_folders).values(folder_id=None))
    await session.execute(delete(Folder).where(Folder.user_id == folder.user_id,
                                               Folder.id.in_(ids)))
    return ids
