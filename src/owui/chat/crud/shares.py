"""Share links: the chat as it stood when shared; messages added later are not shown.

A share keeps the id of the last message row at the time (`message_cut`), the title and the
current message; sharing again moves the cut. Revoking deletes the link: it then answers
404. (Reading a share is reads.read_share.)

Open WebUI's "Allow replies" (`share_mode` "continue"): the people the link's grants name (by
id or through a group, not the grant to everyone) open the live chat instead of the snapshot
and reply in it, their turns stored in the owner's chat. Everyone else who may open the link,
and everyone while the mode is "Clone only" (null), reads the snapshot and may not reply
(RepliesNotAllowed, 403). Going back to "Clone only" takes a fresh snapshot, so the replies
made meanwhile stay readable.
"""

from __future__ import annotations

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.crud import grants as grant_rows
from owui.chat.crud import messages as message_rows
from owui.chat.errors import ChatNotFound, RepliesNotAllowed, ShareNotFound
from owui.chat.models import Share, new_id, now
from owui.chat.schemas import SharedChatResponse
from owui.chat.views import shared_chats
from owui.core.access import Access

CONTINUE = "continue"  # Open WebUI's share mode "Allow replies"


async def share(session: AsyncSession, chat: Row, share_mode: str | None = None,
                mode_given: bool = False) -> str:
    """Create or refresh the chat's share link; returns its id. A new link is open to every
    signed-in user until its owner narrows it (grants.DEFAULT_SHARE_GRANTS)."""
    cut = await message_rows.last_pk(session, chat.id)
    existing = await session.scalar(select(Share).where(Share.chat_id == chat.id))
    stamp = now()
    new = existing is None
    if existing is None:
        existing = Share(id=new_id(), chat_id=chat.id, user_id=chat.user_id, created_at=stamp)
        session.add(existing)
    existing.title = chat.title
    existing.current_message_id = chat.current_message_id
    existing.message_cut = cut
    existing.updated_at = stamp
    if mode_given:
        existing.share_mode = share_mode
    if new:  # after the row is whole: the grants' statements flush it
        await grant_rows.set_grants(session, grant_rows.SHARED_CHAT, chat.id,
                                    grant_rows.DEFAULT_SHARE_GRANTS)
    return existing.id


async def set_mode(session: AsyncSession, chat: Row, share_mode: str | None) -> None:
    found = await session.scalar(select(Share).where(Share.chat_id == chat.id))
    if found is None:
        return
    if found.share_mode == CONTINUE and share_mode != CONTINUE:  # frozen as it is now
        await share(session, chat)
    found.share_mode = share_mode


async def live_share(session: AsyncSession, share_or_chat: Share | str, access: Access
                     ) -> Share | None:
    """The chat's link (or this link), if it lets the caller into the live chat: "Allow
    replies", a grant naming them, and they are not its owner (who has the chat itself)."""
    found = share_or_chat if isinstance(share_or_chat, Share) else await session.scalar(
        select(Share).where(Share.chat_id == share_or_chat))
    if found is None or found.share_mode != CONTINUE or found.user_id == access.user_id:
        return None
    named = await grant_rows.names(session, grant_rows.SHARED_CHAT, found.chat_id, access)
    return found if named else None


async def reply_owner(session: AsyncSession, chat_id: str, access: Access) -> str:
    """Whose chat a turn of the caller's in `chat_id` (not theirs) goes into: its owner's,
    when its link lets the caller reply. A person the link names (by id or group) who may
    only read its snapshot is refused (403, naming the link to clone); to anyone else, those
    the link reaches only as "every signed-in user" included, the chat does not exist (404):
    a chat id alone must not lead a stranger to its link."""
    found = await session.scalar(select(Share).where(Share.chat_id == chat_id))
    if found is None:
        raise ChatNotFound(chat_id)
    if await live_share(session, found, access) is not None:
        return found.user_id
    if not await grant_rows.names(session, grant_rows.SHARED_CHAT, found.chat_id, access):
        raise ChatNotFound(chat_id)
    raise RepliesNotAllowed(chat_id, found.id)


async def unshare(session: AsyncSession, user_id: str, chat_id: str | None) -> int:
    """Delete the user's link of one chat (or all of them), and who could open it."""
    statement = select(Share.chat_id).where(Share.user_id == user_id)
    if chat_id is not None:
        statement = statement.where(Share.chat_id == chat_id)
    chat_ids = list(await session.scalars(statement))
    await grant_rows.drop(session, grant_rows.SHARED_CHAT, chat_ids)
    if not chat_ids:
        return 0
    result = await session.execute(delete(Share).where(Share.user_id == user_id,
                                                       Share.chat_id.in_(chat_ids)))
    return int(result.rowcount or 0)


async def require_readable(session: AsyncSession, share_id: str, access: Access,
                           missing: Exception | None = None) -> Share:
    """The link, if its owner is the caller or one of its grants names them; else 404, as for
    a link that does not exist (a private link is not told apart from none)."""
    found = await session.scalar(select(Share).where(Share.id == share_id))
    if found is None or (found.user_id != access.user_id and not await grant_rows.granted(
            session, grant_rows.SHARED_CHAT, found.chat_id, access)):
        raise missing or ShareNotFound(share_id)
    return found


async def list_mine(session: AsyncSession, user_id: str, offset: int, limit: int
                    ) -> list[SharedChatResponse]:
    rows = await session.execute(
        select(Share.id, Share.chat_id, Share.title, Share.updated_at, Share.created_at)
        .where(Share.user_id == user_id)
        .order_by(Share.updated_at.desc(), Share.id).offset(offset).limit(limit))
    return shared_chats(rows)
