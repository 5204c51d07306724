"""`/api/v1/chats/{id}`'s actions from the sidebar and the message toolbar: fork a branch into a
new chat, set the chat's own parameters (chat controls), mark it unread."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from owui.chat import forking, reads, writes
from owui.chat.crud import chats as chat_rows
from owui.chat.crud import reading
from owui.chat.errors import MessageNotFound, TooLarge
from owui.chat.limits import MAX_SETTINGS_BYTES
from owui.chat.rawdb import Raw
from owui.chat.responses import Json, dumps
from owui.chat.routes.chats import IMPORT_CHATS
from owui.chat.routes.shares import read_readable_share
from owui.chat.runtime import RuntimeDep
from owui.chat.schemas import ChatResponse, ForkForm, JsonObject
from owui.chat.tree import parse_chat
from owui.core.auth import CurrentUser
from owui.core.errors import ConflictError
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])


class AnswerRunning(ConflictError):
    def __init__(self) -> None:
        super().__init__("Wait for the current response to finish before forking.")


async def _source(session: Session, conn: Raw, request: Request, chat_id: str,
                  user_id: str) -> tuple[dict[str, Any], bool]:
    """The chat to fork: the caller's own (live), else a share link they may open (its
    snapshot); and whether it is the caller's."""
    row = await reads.find_chat(conn, chat_id, user_id)
    if row is None:
        return await read_readable_share(session, conn, request, chat_id), False
    return (await reads.full_chats(conn, [row]))[0], True


@router.post("/{id}/fork", response_model=ChatResponse, dependencies=[IMPORT_CHATS])
async def fork_chat(id: str, session: Session, conn: Raw, request: Request, user: CurrentUser,
                    form: ForkForm | None = None) -> Json:
    """A new chat of the caller's with the branch from the root to `message_id` (by default
    the current message); the owner's fork keeps folder, pin, tags and variables."""
    source, owner = await _source(session, conn, request, id, user.sub)
    body = forking.fork_body(source, form.message_id if form else None)
    if owner and await conn.fetch("SELECT 1 FROM turns WHERE chat_id = :id", {"id": id}):
        raise AnswerRunning()  # the live chat: its answer is not written yet
    if not owner:
        forking.as_reader(body, source["user_id"], user.sub, user.name)
    meta = {**(source["meta"] if owner else {}), "forked_from": source["id"],
            "forked_from_message_id": body["branchPointMessageId"]}
    chat = writes.new_chat(
        user.sub, parse_chat(body), folder_id=source["folder_id"] if owner else None,
        variables=source["variables"] if owner else None, meta=meta,
        pinned=bool(source["pinned"]) and owner,
        tags={t: t for t in source["meta"].get("tags", [])} if owner else None)
    await conn.write(lambda writer: writes.insert_chats(writer, [chat]))
    return Json(chat.response())


@router.patch("/{id}/params", response_model=JsonObject)
async def update_params(id: str, session: Session, user: CurrentUser,
                        form: JsonObject = Body(...)) -> Json:
    """Chat controls: the chat's own system prompt and parameters, merged into `chat.params`;
    answers the whole `params`. The chat's place in the list does not change."""
    row = await chat_rows.require_chat(session, id, user.sub)
    params = {**(row.data.get("params") or {}), **form}
    size = len(dumps(params))
    if size > MAX_SETTINGS_BYTES:
        raise TooLarge("params", size, MAX_SETTINGS_BYTES, "bytes")
    await chat_rows.set_fields(session, id, user.sub, data={**row.data, "params": params})
    await session.commit()
    return Json(params)


@router.post("/{id}/unread", response_model=JsonObject)
async def mark_unread(id: str, session: Session, user: CurrentUser) -> Json:
    """Marks the chat unread: the sidebar shows it so until it is read again."""
    answer = await reading.mark_unread(session, id, user.sub)
    answer["folder_unread_counts"] = await reading.folder_unread_counts(session, user.sub)
    await session.commit()
    return Json(answer)



class EventForm(BaseModel):
    type: str = Field(min_length=1, max_length=200)
    data: JsonObject


@router.post("/{id}/messages/{message_id}/event", response_model=bool)
async def send_event(id: str, message_id: str, form: EventForm, conn: Raw, runtime: RuntimeDep,
                     user: CurrentUser) -> Json:
    """An event about one of the chat's messages (`{type, data}`: a status, a notification,
    ...) to the owner's open pages, as the turn's own events reach them; not stored."""
    await reads.require_chat(conn, id, user.sub)
    if not await conn.fetch("SELECT 1 FROM messages WHERE chat_id = :chat_id AND id = :id",
                            {"chat_id": id, "id": message_id}):
        raise MessageNotFound(id, message_id)
    await runtime.realtime.emitter.emit(user.sub, id, message_id, form.type, form.data)
    return Json(True)
