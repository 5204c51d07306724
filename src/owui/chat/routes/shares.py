"""Share links: any signed-in user reads a shared chat by its link until the owner revokes it."""

from __future__ import annotations

from fastapi import APIRouter

from owui.chat import reads, writes
from owui.chat.crud import chats as chat_rows
from owui.chat.crud import shares as share_rows
from owui.chat.limits import MAX_TITLE_CHARS
from owui.chat.rawdb import Raw
from owui.chat.responses import Json
from owui.chat.routes.paging import Page, bounds
from owui.chat.schemas import ChatResponse, ShareChatForm, SharedChatResponse
from owui.chat.tree import parse_chat
from owui.core.auth import CurrentUser
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["shares"])


@router.get("/shared", response_model=list[SharedChatResponse])
async def my_shares(session: Session, user: CurrentUser, page: Page = None) -> Json:
    offset, limit = bounds(page or 1)
    return Json(await share_rows.list_mine(session, user.sub, offset, limit or 0))


@router.delete("/share/all", response_model=bool)
async def revoke_all(session: Session, user: CurrentUser) -> Json:
    await share_rows.unshare(session, user.sub, None)
    await session.commit()
    return Json(True)


@router.get("/share/{share_id}", response_model=ChatResponse)
async def read_shared(share_id: str, conn: Raw, _user: CurrentUser) -> Json:
    return Json(await reads.read_share(conn, share_id))


@router.post("/{id}/share", response_model=ChatResponse)
async def share_chat(id: str, session: Session, conn: Raw, user: CurrentUser,
                     _form: ShareChatForm | None = None) -> Json:
    """Makes (or refreshes) the link: it shows the chat as it is now."""
    row = await chat_rows.require_chat(session, id, user.sub)
    await share_rows.share(session, row)
    await session.commit()
    return Json(await reads.read_chat(conn, id, user.sub))


@router.delete("/{id}/share", response_model=bool)
async def revoke(id: str, session: Session, user: CurrentUser) -> Json:
    """True if a link was revoked, false if the chat had none (as Open WebUI)."""
    await chat_rows.require_chat(session, id, user.sub)
    revoked = await share_rows.unshare(session, user.sub, id)
    await session.commit()
    return Json(revoked > 0)


@router.post("/{id}/clone/shared", response_model=ChatResponse)
async def clone_shared(id: str, conn: Raw, user: CurrentUser) -> Json:
    """A chat of the caller's own from a share link (`id` is the share id)."""
    shared = await reads.read_share(conn, id)
    body = {**shared["chat"], "title": f"Clone of {shared['title']}"[:MAX_TITLE_CHARS],
            "originalChatId": id, "branchPointMessageId": shared["current_message_id"]}
    chat = writes.new_chat(user.sub, parse_chat(body))
    await conn.write(lambda writer: writes.insert_chats(writer, [chat]))
    return Json(chat.response())
