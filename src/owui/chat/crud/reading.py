"""Read and unread chats, as the sidebar shows them (Open WebUI's `last_read_at`).

owui stores a read mark only when one is asked for: None (every chat at first) reads as "read up
to its last change", 0 is "marked unread", and marking read clears it again. As in Open WebUI,
an answer that ends while no page of its chat is open leaves the chat unread (a mark just before
the answer), until the app's socket says the chat was seen (realtime/read_marks.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.errors import ChatNotFound
from owui.chat.models import Chat, Folder

UNREAD = (Chat.last_read_at.is_not(None)) & (Chat.last_read_at < Chat.updated_at)


async def mark_unread(session: AsyncSession, chat_id: str, user_id: str) -> dict[str, Any]:
    """Open WebUI's answer: chat_id, last_read_at (0) and folder_id."""
    result = await session.execute(update(Chat).where(Chat.id == chat_id,
                                                      Chat.user_id == user_id)
                                   .values(last_read_at=0))
    if result.rowcount == 0:
        raise ChatNotFound(chat_id)
    folder_id = await session.scalar(select(Chat.folder_id).where(Chat.id == chat_id))
    return {"chat_id": chat_id, "last_read_at": 0, "folder_id": folder_id}


async def mark_read(session: AsyncSession, user_id: str,
                    folder_ids: Sequence[str] | None = None) -> int:
    """Clear the unread marks of the user's chats not archived (those in `folder_ids` only,
    when given); returns how many were unread."""
    statement = update(Chat).where(Chat.user_id == user_id, Chat.archived.is_(False),
                                   Chat.last_read_at.is_not(None))
    if folder_ids is not None:
        statement = statement.where(Chat.folder_id.in_(list(folder_ids)))
    return int((await session.execute(statement.values(last_read_at=None))).rowcount or 0)


async def folder_unread_counts(session: AsyncSession, user_id: str) -> dict[str, int]:
    """Per folder of the user's, its unread chats and those of every folder below it."""
    parents = dict((await session.execute(
        select(Folder.id, Folder.parent_id).where(Folder.user_id == user_id))).tuples().all())
    counts = dict.fromkeys(parents, 0)
    direct = await session.execute(
        select(Chat.folder_id, func.count()).where(Chat.user_id == user_id,
                                                   Chat.folder_id.is_not(None),
                                                   Chat.archived.is_(False), UNREAD)
        .group_by(Chat.folder_id))
    for folder_id, unread in direct.tuples():
        seen: set[str] = set()
        current: str | None = folder_id
        while current is not None and current not in seen and current in counts:
            seen.add(current)
            counts[current] += unread
            current = parents.get(current)
    return counts
