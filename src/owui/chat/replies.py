"""A turn in another person's chat: Open WebUI's "Allow replies" share links (crud/shares.py).

The turn routes try the caller's own chat first, as always; only when there is none of that id
do they ask the share link, and begin again in its owner's chat. Nothing is stored before a
refusal, so beginning again is safe, and the caller's own turns pay nothing for this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.crud import shares as share_rows
from owui.chat.errors import ChatNotFound
from owui.core.access import Access

T = TypeVar("T")


async def begin_in(session: AsyncSession, access: Access,
                   begin: Callable[[str | None], Awaitable[T]], chat_id: str) -> T:
    """`begin(None)` in the caller's chat; else `begin(owner)` when the chat's link lets the
    caller reply (403 to a reader of its snapshot only, 404 to anyone else)."""
    try:
        return await begin(None)
    except ChatNotFound:
        owner = await share_rows.reply_owner(session, chat_id, access)
        await session.commit()  # the grants' read is over: its connection goes back
    return await begin(owner)


async def require_live(session: AsyncSession, chat_id: str, access: Access) -> None:
    """For a chat not the caller's: it is another's whose "Allow replies" link names them
    (the app opens it like their own: its tags, its running answers), else 404."""
    if await share_rows.live_share(session, chat_id, access) is None:
        raise ChatNotFound(chat_id)
