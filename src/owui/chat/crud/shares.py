"""Share links: the chat as it stood when shared; messages added later are not shown.

A share keeps the id of the last message row at the time (`message_cut`), the title and the
current message; sharing again moves the cut. Revoking deletes the link: it then answers
404. (Reading a share is reads.read_share.)
"""

from __future__ import annotations

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.crud import messages as message_rows
from owui.chat.models import Share, new_id, now
from owui.chat.schemas import SharedChatResponse
from owui.chat.views import shared_chats


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


async def list_mine(session: AsyncSession, user_id: str, offset: int, limit: int
                    ) -> list[SharedChatResponse]:
    rows = await session.execute(
        select(Share.id, Share.chat_id, Share.title, Share.updated_at, Share.created_at)
        .where(Share.user_id == user_id)
        .order_by(Share.updated_at.desc(), Share.id).offset(offset).limit(limit))
    return shared_chats(rows)
