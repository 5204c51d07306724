"""`/api/v1/chats/{id}/messages`: append one message under a parent, read the active branch
(or all), change a message's content, delete a message with everything below it, decide on a
tool call waiting for the user (tool_approval.py)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from owui.chat import reads, tool_approval, writes
from owui.chat.crud import chats as chat_rows
from owui.chat.crud import messages as message_rows
from owui.chat.errors import TooLarge
from owui.chat.limits import MAX_CONTENT_CHARS
from owui.chat.models import new_id, now
from owui.chat.rawdb import Raw
from owui.chat.responses import Json
from owui.chat.runtime import RuntimeDep
from owui.chat.schemas import ChatResponse, MessageContentForm, MessageForm, MessageResponse
from owui.chat.tree import parse_message
from owui.core.auth import CurrentUser
from owui.core.errors import error_response
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["messages"])


@router.get("/{id}/messages", response_model=list[MessageResponse])
async def list_messages(id: str, conn: Raw, user: CurrentUser,
                        path: Literal["current", "all"] = "all") -> Json:
    """`path=current`: root to the current message (the active branch); `all`: every one."""
    row = await reads.require_chat(conn, id, user.sub)
    if path == "all":
        return Json(await reads.all_messages(conn, id))
    return Json(await reads.branch(conn, id, row.current_message_id))


@router.post("/{id}/messages", response_model=MessageResponse)
async def append_message(id: str, form: MessageForm, conn: Raw, user: CurrentUser) -> Json:
    """One new row under `parentId` (omitted: the current message); it becomes current."""
    raw = form.model_dump(exclude_unset=True, exclude={"make_current", "parent_id"})
    raw.setdefault("timestamp", now())
    raw["parentId"] = form.parent_id
    message = parse_message({**raw, "id": form.id or new_id()})
    return Json(await conn.write(lambda writer: writes.append(
        writer, id, user.sub, message, parent_given="parent_id" in form.model_fields_set,
        make_current=form.make_current)))


@router.post("/{id}/messages/{message_id}", response_model=ChatResponse)
async def update_message(id: str, message_id: str, form: MessageContentForm, session: Session,
                         conn: Raw, user: CurrentUser) -> Json:
    if len(form.content) > MAX_CONTENT_CHARS:
        raise TooLarge("content", len(form.content), MAX_CONTENT_CHARS)
    await chat_rows.require_chat(session, id, user.sub)
    await message_rows.set_content(session, id, message_id, form.content)
    await chat_rows.touch(session, id)
    await session.commit()
    return Json(await reads.read_chat(conn, id, user.sub))


@router.delete("/{id}/messages/{message_id}", response_model=ChatResponse)
async def delete_message(id: str, message_id: str, session: Session, conn: Raw,
                         user: CurrentUser) -> Json:
    """Deletes the message and its replies; then, as Open WebUI, the current message is the
    one reached from its parent down each last child (a regenerated answer deleted: its
    sibling, which the app then shows)."""
    await chat_rows.require_chat(session, id, user.sub)
    parent, _ = await message_rows.delete_branch(session, id, message_id)
    current = await message_rows.deepest_last(session, id, parent)
    await chat_rows.set_fields(session, id, user.sub, updated_at=now(),
                               current_message_id=current)
    await session.commit()
    return Json(await reads.read_chat(conn, id, user.sub))


@router.post("/{id}/messages/{message_id}/resolve", response_model=dict[str, Any], responses={
    400: error_response("The decision does not fit the call, or the message has no output."),
    404: error_response("No chat (or not yours), message or waiting tool call of that id."),
    409: error_response("The tool call was resolved already.")},
    summary="Approve, reject or answer a tool call waiting for the user")
async def resolve_tool_call(id: str, message_id: str, form: tool_approval.ResolveToolCallForm,
                            conn: Raw, user: CurrentUser, runtime: RuntimeDep) -> Json:
    await reads.require_chat(conn, id, user.sub)
    output, paused = await conn.write(
        lambda writer: tool_approval.resolve(writer, id, message_id, form))
    # The pages of the chat show the decision at once, as Open WebUI's do.
    await runtime.realtime.emitter.emit(user.sub, id, message_id, "chat:completion",
                                        {"output": output})
    return Json({"status": True, "paused": paused, "output": output})
