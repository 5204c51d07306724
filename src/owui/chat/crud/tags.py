"""Tags: a user's own names, linked to chats; a tag no chat uses any more is dropped.

(Adding and listing tags run on the driver: see writes.py and reads.py.)
"""

from __future__ import annotations

from sqlalchemy import delete, exists
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.models import ChatTag, Tag


def tag_id(name: str) -> str:
    """Open WebUI's tag id: the name in lower case, spaces as underscores."""
    return name.strip().replace(" ", "_").lower()


async def drop_unused(session: AsyncSession, user_id: str) -> None:
    used = exists().where(ChatTag.user_id == user_id, ChatTag.tag_id == Tag.id)
    await session.execute(delete(Tag).where(Tag.user_id == user_id, ~used))
