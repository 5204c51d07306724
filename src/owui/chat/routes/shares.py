"""Share links: any signed-in user reads a shared chat by its link until the owner revokes it."""

from __future__ import annotations

from fastapi import APIRouter

from owui.chat.crud import chats as chat_rows
from owui.chat.crud import shares as share_rows
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
async def read_shared(share_id: str, session: Session, _user: CurrentUser) -> Json:
    return Json(await share_rows.read(session, share_id))


@router.post("/{id}/share", response_model=ChatResponse)
async def share_chat(id: str, session: Session, user: CurrentUser,
                     _form: ShareChatForm | None = None) -> Json:
    """Makes (or refreshes) the link: it shows the chat as it is now."""
    row = await chat_rows.require_chat(session, id, user.sub)
    await share_rows.share(session, row)
    await session.commit()
    return Json(await chat_rows.read_chat(session, id, user.sub))


@router.delete("/{id}/share", response_model=bool)
async def revoke(id: str, session: Session, user: CurrentUser) -> Json:
    """True if a link was revoked, false if the chat had none (as Open WebUI)."""
    await chat_rows.require_chat(session, id, user.sub)
    revoked = await share_rows.unshare(session, user.sub, id)
    await session.commit()
    return Json(revoked > 0)


@router.post("/{id}/clone/shared", response_model=ChatResponse)
async def clone_shared(id: str, session: Session, user: CurrentUser) -> Json:
    """A chat of the caller's own from a share link (`id` is the share id)."""
    shared = await share_rows.read(session, id)
    body = {**shared["chat"], "title": f"Clone of {shared['title']}"[:1000],
            "originalChatId": id, "branchPointMessageId": shared["current_message_id"]}
    chat = chat_rows.new_chat(user.sub, parse_chat(body))
    await chat_rows.insert_chats(session, [chat])
    await session.commit()
    return Json(chat.response())
