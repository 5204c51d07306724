"""`/api/v1/chats/{id}`: read, update (diffed against stored rows), delete, pin, archive,
clone, move to a folder, compact (compaction.py). Another user's chat answers 404, as if it did
not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import not_

from owui.chat import compaction, reads, writes
from owui.chat.chat_config import chat_config
from owui.chat.crud import chats as chat_rows
from owui.chat.crud import folders as folder_rows
from owui.chat.crud import shares as share_rows
from owui.chat.errors import ChatNotFound, FolderNotFound
from owui.chat.limits import MAX_TITLE_CHARS
from owui.chat.models import Chat, now
from owui.chat.rawdb import Raw
from owui.chat.responses import Json
from owui.chat.routes.shares import live_view, without_owners_settings
from owui.chat.runtime import RuntimeDep
from owui.chat.schemas import ChatFolderIdForm, ChatForm, ChatResponse, CloneForm
from owui.chat.tree import parse_chat
from owui.core.access import current_access, require_permission
from owui.core.auth import CurrentUser, UserToken
from owui.core.errors import ConflictError, error_response
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])
# Open WebUI's permissions for these routes (admins always pass: core.access).
DELETE_CHATS = Depends(require_permission("chat.delete"))
IMPORT_CHATS = Depends(require_permission("chat.import"))  # clone and fork make a chat


@router.get("/{id}", response_model=ChatResponse)
async def get_chat(id: str, session: Session, conn: Raw, request: Request,
                   user: CurrentUser) -> Json:
    """The caller's chat, another's whose "Allow replies" link names them (crud/shares.py),
    or (read-only) a chat in a folder shared with them."""
    row = await reads.find_chat(conn, id, user.sub)
    if row is not None:
        return Json((await reads.full_chats(conn, [row]))[0])
    live = await share_rows.live_share(session, id, current_access(request))
    if live is not None:
        return Json(live_view(await reads.read_chat(conn, id, live.user_id)))
    return Json(await _in_shared_folder(session, conn, request, id))


async def _in_shared_folder(session: Session, conn: Raw, request: Request,
                            chat_id: str) -> ChatResponse:
    """Another user's chat, for a reader of its folder; 404 as for none otherwise."""
    row = await reads.find_chat(conn, chat_id, None)
    if row is None or row.folder_id is None or row.archived:
        raise ChatNotFound(chat_id)
    try:
        await folder_rows.require_readable(session, row.folder_id, current_access(request))
    except FolderNotFound:
        raise ChatNotFound(chat_id) from None
    return without_owners_settings((await reads.full_chats(conn, [row]))[0])


@router.post("/{id}", response_model=ChatResponse)
async def update_chat(id: str, form: ChatForm, session: Session, conn: Raw,
                      user: CurrentUser) -> Json:
    """Fields sent replace stored ones; a `history` sent is diffed against the stored rows."""
    row = await chat_rows.require_chat(session, id, user.sub)
    parsed = parse_chat(form.chat)
    if form.folder_id is not None:
        await folder_rows.require(session, form.folder_id, user.sub)
    await chat_rows.apply_update(session, row, parsed, variables=form.variables,
                                 folder_id=form.folder_id)
    await session.commit()
    return Json(await reads.read_chat(conn, id, user.sub))


@router.delete("/{id}", response_model=bool, dependencies=[DELETE_CHATS])
async def delete_chat(id: str, session: Session, user: CurrentUser) -> Json:
    if not await chat_rows.delete_chats(session, user.sub, [id]):
        raise ChatNotFound(id)
    await session.commit()
    return Json(True)


@router.get("/{id}/pinned", response_model=bool)
async def is_pinned(id: str, conn: Raw, user: CurrentUser) -> Json:
    return Json((await reads.require_chat(conn, id, user.sub)).pinned)


async def _change(session: Session, conn: Raw, chat_id: str, user_id: str,
                  **values: object) -> Json:
    """Set columns of the chat, then answer with the whole chat."""
    await chat_rows.set_fields(session, chat_id, user_id, updated_at=now(), **values)
    await session.commit()
    return Json(await reads.read_chat(conn, chat_id, user_id))


@router.post("/{id}/pin", response_model=ChatResponse)
async def toggle_pin(id: str, session: Session, conn: Raw, user: CurrentUser) -> Json:
    return await _change(session, conn, id, user.sub, pinned=not_(Chat.pinned))


@router.post("/{id}/archive", response_model=ChatResponse)
async def toggle_archive(id: str, session: Session, conn: Raw, user: CurrentUser) -> Json:
    return await _change(session, conn, id, user.sub, archived=not_(Chat.archived))


@router.post("/{id}/folder", response_model=ChatResponse)
async def move_to_folder(id: str, form: ChatFolderIdForm, session: Session, conn: Raw,
                         user: CurrentUser) -> Json:
    """Into a folder of the caller's, or out of any with `folder_id: null`."""
    if form.folder_id is not None:
        await folder_rows.require(session, form.folder_id, user.sub)
    return await _change(session, conn, id, user.sub, folder_id=form.folder_id)


@router.post("/{id}/clone", response_model=ChatResponse, dependencies=[IMPORT_CHATS])
async def clone_chat(id: str, conn: Raw, user: CurrentUser,
                     form: CloneForm | None = None) -> Json:
    original = await reads.read_chat(conn, id, user.sub)
    title = form.title if form and form.title else f"Clone of {original['title']}"
    body = {**original["chat"], "title": title[:MAX_TITLE_CHARS], "originalChatId": id,
            "branchPointMessageId": original["current_message_id"]}
    chat = writes.new_chat(user.sub, parse_chat(body), folder_id=original["folder_id"],
                           variables=original["variables"], meta=original["meta"],
                           pinned=original["pinned"],
                           tags={t: t for t in original["meta"]["tags"]})
    await conn.write(lambda writer: writes.insert_chats(writer, [chat]))
    return Json(chat.response())


class CompactChatForm(BaseModel):
    """Open WebUI's: the model to summarise with (none: compaction.py's choice)."""

    model: str | None = Field(None, max_length=300)


@router.post("/{id}/compact", response_model=dict[str, Any], responses={
    400: error_response("No model to summarise with."),
    404: error_response("No chat of that id (or not yours), or no such model."),
    409: error_response("An answer is being written in the chat."),
    502: error_response("The model's provider failed."),
    503: error_response("The model's provider cannot be reached.")},
    summary="Summarise the chat's branch into a shorter context (Open WebUI's compaction)")
async def compact_chat(id: str, conn: Raw, request: Request, user: CurrentUser,
                       token: UserToken, runtime: RuntimeDep,
                       form: CompactChatForm | None = None) -> Json:
    row = await reads.require_chat(conn, id, user.sub)
    running = await conn.fetch("SELECT 1 FROM turns WHERE chat_id = :id", {"id": id})
    if running or runtime.webturns.of_chat(id):
        raise ConflictError(compaction.BUSY)
    config = await chat_config(request)
    branch = await reads.branch(conn, id, row.current_message_id)
    # As Open WebUI: no model is a 400 before the switch is looked at.
    model = compaction.choose_model(form.model if form else None,
                                    config["CONTEXT_COMPACTION_MODEL"], branch,
                                    row.data.get("models"))
    if not config["ENABLE_CONTEXT_COMPACTION"]:
        return Json(compaction.skipped("disabled"))
    work = compaction.plan(branch)
    if isinstance(work, str):
        return Json(compaction.skipped(work))
    text = compaction.prompt(config["CONTEXT_COMPACTION_PROMPT_TEMPLATE"], work)
    summary = (await compaction.summarise(runtime.agent, token, model, text)
               or compaction.fallback(work))
    checkpoint = work.checkpoint_id
    if not await conn.write(lambda w: compaction.store(w, id, checkpoint, summary)):
        raise ConflictError(f"Message {checkpoint!r} was deleted while it was summarised; "
                            "compact the chat again.")
    return Json(compaction.compacted(work, summary))
