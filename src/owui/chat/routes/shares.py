"""Share links: any signed-in user reads a shared chat by its link until the owner revokes it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from owui.chat import reads, writes
from owui.chat.crud import chats as chat_rows
from owui.chat.crud import grants as grant_rows
from owui.chat.crud import shares as share_rows
from owui.chat.limits import MAX_TITLE_CHARS
from owui.chat.rawdb import Raw
from owui.chat.responses import Json
from owui.chat.routes.paging import Page, bounds
from owui.chat.schemas import (
    ChatAccessGrantsForm,
    ChatResponse,
    JsonObject,
    ShareChatForm,
    SharedChatResponse,
)
from owui.chat.tree import parse_chat
from owui.core.access import current_access, require_permission
from owui.core.auth import CurrentUser
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["shares"])
# The owner's settings for their own turns, which a reader of the link is not shown.
PRIVATE_CHAT_KEYS = ("params", "tool_servers", "tool_ids", "filter_ids", "variables")


@router.get("/shared", response_model=list[SharedChatResponse])
async def my_shares(session: Session, user: CurrentUser, page: Page = None) -> Json:
    offset, limit = bounds(page or 1)
    return Json(await share_rows.list_mine(session, user.sub, offset, limit or 0))


@router.delete("/share/all", response_model=bool)
async def revoke_all(session: Session, user: CurrentUser) -> Json:
    await share_rows.unshare(session, user.sub, None)
    await session.commit()
    return Json(True)


def without_owners_settings(chat: ChatResponse) -> ChatResponse:
    """What the owner set for their own turns is not a reader's (as Open WebUI)."""
    chat["variables"] = {}
    for key in PRIVATE_CHAT_KEYS:
        chat["chat"].pop(key, None)
    return chat


async def read_readable_share(session: Session, conn: Raw, request: Request,
                              share_id: str) -> ChatResponse:
    """The shared chat, for its owner or a user its grants name (else 404): the snapshot, or
    for a person an "Allow replies" link names, the live chat (its id the chat's own, which
    they reply in: crud/shares.py)."""
    access = current_access(request)
    found = await share_rows.require_readable(session, share_id, access)
    if await share_rows.live_share(session, found, access) is not None:
        return live_view(await reads.read_chat(conn, found.chat_id, found.user_id))
    shared = await reads.read_share(conn, share_id)
    shared["chat"]["share_mode"] = found.share_mode
    return shared if found.user_id == access.user_id else without_owners_settings(shared)


def live_view(chat: ChatResponse) -> ChatResponse:
    """Another person's live chat as one of its repliers sees it: in "Allow replies" mode
    (the app offers them the message input for it), without the owner's settings and filing
    (folder, pin, archive are the owner's)."""
    chat.update(folder_id=None, pinned=False, archived=False)
    chat["chat"]["share_mode"] = share_rows.CONTINUE
    return without_owners_settings(chat)


@router.get("/share/{share_id}", response_model=ChatResponse)
async def read_shared(share_id: str, session: Session, conn: Raw, request: Request,
                      _user: CurrentUser) -> Json:
    """Open to the link's owner and to whom its grants name; 404 to anyone else."""
    return Json(await read_readable_share(session, conn, request, share_id))


@router.post("/{id}/share", response_model=ChatResponse,
             dependencies=[Depends(require_permission("chat.share"))])
async def share_chat(id: str, session: Session, conn: Raw, user: CurrentUser,
                     form: ShareChatForm | None = None) -> Json:
    """Makes (or refreshes) the link: it shows the chat as it is now."""
    row = await chat_rows.require_chat(session, id, user.sub)
    await share_rows.share(session, row, form.share_mode if form else None,
                           mode_given=form is not None and "share_mode" in form.model_fields_set)
    await session.commit()
    return Json(await reads.read_chat(conn, id, user.sub))


@router.delete("/{id}/share", response_model=bool)
async def revoke(id: str, session: Session, user: CurrentUser) -> Json:
    """True if a link was revoked, false if the chat had none (as Open WebUI)."""
    await chat_rows.require_chat(session, id, user.sub)
    revoked = await share_rows.unshare(session, user.sub, id)
    await session.commit()
    return Json(revoked > 0)


@router.get("/shared/{id}/access", response_model=list[JsonObject])
async def share_access(id: str, session: Session, user: CurrentUser) -> Json:
    """Who may open the chat's share link: Open WebUI's grant items (the owner's view)."""
    await chat_rows.require_chat(session, id, user.sub)
    return Json(await grant_rows.grants_of(session, grant_rows.SHARED_CHAT, id))


@router.post("/shared/{id}/access/update", response_model=ChatResponse)
async def update_share_access(id: str, form: ChatAccessGrantsForm, session: Session, conn: Raw,
                              user: CurrentUser) -> Json:
    """Replace who may open the link (an empty list: the owner only) and, when sent, its
    mode. The grants are checked whole before anything is stored."""
    chat = await chat_rows.require_chat(session, id, user.sub)
    grants = grant_rows.parse(form.access_grants)
    await grant_rows.set_grants(session, grant_rows.SHARED_CHAT, id, grants)
    if "share_mode" in form.model_fields_set:
        await share_rows.set_mode(session, chat, form.share_mode)
    await session.commit()
    return Json(await reads.read_chat(conn, id, user.sub))


@router.post("/{id}/clone/shared", response_model=ChatResponse,
             dependencies=[Depends(require_permission("chat.import"))])
async def clone_shared(id: str, session: Session, conn: Raw, request: Request,
                       user: CurrentUser) -> Json:
    """A chat of the caller's own from a share link (`id` is the share id)."""
    shared = await read_readable_share(session, conn, request, id)
    body = {**shared["chat"], "title": f"Clone of {shared['title']}"[:MAX_TITLE_CHARS],
            "originalChatId": id, "branchPointMessageId": shared["current_message_id"]}
    chat = writes.new_chat(user.sub, parse_chat(body))
    await conn.write(lambda writer: writes.insert_chats(writer, [chat]))
    return Json(chat.response())
