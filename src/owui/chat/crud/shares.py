"""Share links: the chat as it stood when shared; messages added later are not shown.

A share keeps the id of the last message row at the time (`message_cut`), the title and the
current message; sharing again moves the cut. Revoking deletes the link: it then answers 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.crud import messages as message_rows
from owui.chat.crud import tags as tag_rows
from owui.chat.crud.chats import CHAT_COLUMNS
from owui.chat.models import Chat, Share, new_id, now
from owui.chat.tree import chat_object
from owui.chat.views import chat_response


async def share(session: AsyncSession, chat: Row) -> str:
    """Create or refresh the chat's share link; returns its id."""
    cut = await message_rows.last_pk(session, chat.id)
    existing = await session.scalar(select(Share).where(Share.chat_id == chat.id))
    stamp = now()
    if existing is None:
        existing = Share(id=new_id(), chat_id=chat.id, user_id=chat.user_id, created_at=stamp)
        session.add(existing)
    existing.title = chat.title
    existing.current_message_id = chat.current_message_id
    existing.message_cut = cut
    existing.updated_at = stamp
    return existing.id


async def unshare(session: AsyncSession, user_id: str, chat_id: str | None) -> int:
    statement = delete(Share).where(Share.user_id == user_id)
    if chat_id is not None:
        statement = statement.where(Share.chat_id == chat_id)
    return int((await session.execute(statement)).rowcount or 0)


async def read(session: AsyncSession, share_id: str) -> dict[str, Any]:
    """The shared chat, as a ChatResponse whose id is the share id (as Open WebUI)."""
    found = (await session.execute(
        select(Share.title.label("share_title"), Share.current_message_id.label("share_current"),
               Share.message_cut, *CHAT_COLUMNS)
        .join(Chat, Chat.id == Share.chat_id).where(Share.id == share_id))).first()
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No shared chat {share_id!r}.")
    messages = await message_rows.load(session, [found.id], cut=found.message_cut)
    current = found.share_current if any(m.id == found.share_current for m in messages) else None
    tags = await tag_rows.chat_tag_ids(session, [found.id])
    fields = {**found._mapping, "id": share_id, "title": found.share_title,
              "current_message_id": current}
    body = chat_object(found.share_title, found.data, messages, current)
    return chat_response(fields, body, tags.get(found.id, []), share_id)


async def list_mine(session: AsyncSession, user_id: str, offset: int, limit: int
                    ) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Share.id, Share.chat_id, Share.title, Share.updated_at, Share.created_at)
        .where(Share.user_id == user_id)
        .order_by(Share.updated_at.desc(), Share.id).offset(offset).limit(limit))
    return [{**row._mapping, "share_id": row.id} for row in rows]
