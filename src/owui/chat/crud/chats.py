"""Chat changes through SQLAlchemy: flags, whole-chat updates, deletes; scoped to the owner.

(Reading chats and creating them are the hot paths: see reads.py and writes.py.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.crud import grants as grant_rows
from owui.chat.crud import messages as message_rows
from owui.chat.crud import tags as tag_rows
from owui.chat.errors import ChatNotFound
from owui.chat.models import Chat, now
from owui.chat.tree import ChatIn

_CHUNK = 500
COLUMNS = (Chat.id, Chat.user_id, Chat.title, Chat.data, Chat.current_message_id, Chat.pinned)


async def require_chat(session: AsyncSession, chat_id: str, user_id: str) -> Row:
    row = (await session.execute(select(*COLUMNS).where(Chat.id == chat_id,
                                                        Chat.user_id == user_id))).first()
    if row is None:
        raise ChatNotFound(chat_id)
    return row


async def count(session: AsyncSession, user_id: str, *, archived: bool) -> int:
    statement = select(func.count()).where(Chat.user_id == user_id, Chat.archived == archived,
                                           Chat.note_id.is_(None))
    return int(await session.scalar(statement) or 0)


async def set_fields(session: AsyncSession, chat_id: str, user_id: str,
                     **values: Any) -> None:
    """Update columns of one chat (an expression may refer to the old value); 404 if none."""
    result = await session.execute(update(Chat).where(Chat.id == chat_id, Chat.user_id == user_id)
                                   .values(**values))
    if result.rowcount == 0:
        raise ChatNotFound(chat_id)


async def set_all(session: AsyncSession, user_id: str, **values: Any) -> None:
    """Every chat of the user's lists (archive all, unarchive all): not a note's hidden ones."""
    await session.execute(update(Chat).where(Chat.user_id == user_id, Chat.note_id.is_(None))
                          .values(**values))


async def apply_update(session: AsyncSession, row: Row, chat: ChatIn, *,
                       variables: dict[str, Any] | None, folder_id: str | None) -> None:
    """Open WebUI's update: fields sent replace stored ones; messages are diffed, not rewritten."""
    values: dict[str, Any] = {"updated_at": now()}
    if chat.title is not None:
        values["title"] = chat.title
    if chat.data:
        values["data"] = {**row.data, **chat.data}
    if chat.messages is not None:
        await message_rows.sync(session, row.id, chat.messages)
        values["current_message_id"] = chat.current_id
    if variables is not None:
        values["variables"] = variables
    if folder_id is not None:
        values["folder_id"] = folder_id
    await session.execute(update(Chat).where(Chat.id == row.id).values(**values))


async def delete_chats(session: AsyncSession, user_id: str, chat_ids: Sequence[str] | None
                       ) -> int:
    """Delete some (or, with None, all) of a user's chats; their messages go with them, and
    the grants of their share links."""
    statement = select(Chat.id).where(Chat.user_id == user_id)
    if chat_ids is not None:
        statement = statement.where(Chat.id.in_(chat_ids))
    found = list(await session.scalars(statement))
    deleted = 0
    for start in range(0, len(found), _CHUNK):  # within any database's bound on parameters
        chunk = found[start:start + _CHUNK]
        await grant_rows.drop(session, grant_rows.SHARED_CHAT, chunk)
        result = await session.execute(delete(Chat).where(Chat.user_id == user_id,
                                                          Chat.id.in_(chunk)))
        deleted += int(result.rowcount or 0)
    await tag_rows.drop_unused(session, user_id)
    return deleted


async def touch(session: AsyncSession, chat_id: str) -> None:
    await session.execute(update(Chat).where(Chat.id == chat_id).values(updated_at=now()))
