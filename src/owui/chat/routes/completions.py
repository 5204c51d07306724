"""The chat turn: `POST /api/v1/chats/{id}/completions` (our events), Open WebUI's
`POST /api/chat/completions` (OpenAI's chunks; with `chat_id` stored like ours, without it run
and not stored, as Open WebUI does), and `POST /api/v1/chats/{id}/messages/{message_id}/stop`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from owui.chat import reads
from owui.chat.errors import MessageNotFound
from owui.chat.rawdb import Raw
from owui.chat.replies import begin_in
from owui.chat.responses import Json
from owui.chat.routes import tasks
from owui.chat.runtime import RuntimeDep
from owui.chat.schemas import JsonObject
from owui.chat.temporary import is_temporary
from owui.chat.turns.events import openai_completion, openai_encoder, ours
from owui.chat.turns.flow import begin_stored, begin_unstored
from owui.chat.turns.forms import TurnForm, from_openwebui
from owui.chat.turns.respond import respond
from owui.core.access import current_access
from owui.core.auth import CurrentUser, UserToken
from owui.core.errors import ConflictError, error_response
from owui.core.service import Session

router = APIRouter(tags=["completions"])

# What a turn answers besides 200: its own refusals, and the agent's, passed on as they are.
TURN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The answer: SSE events when stream is true, else the message.",
          "content": {"text/event-stream": {}, "application/json": {}}},
    400: error_response("parent_id is not a message of the chat (or not a user message, to "
                        "answer again), or the model refused the request."),
    403: error_response("The model or a tool is not yours to use, or the chat is another's "
                        "shared with you to read only."),
    404: error_response("No such chat (or not yours), or no connection serves the model."),
    409: error_response("A message id given is taken already."),
    413: error_response("The message is too large."),
    429: error_response("The provider's rate limit."),
    502: error_response("The agent, inference service or provider failed."),
    503: error_response("The agent or inference service is unreachable."),
    504: error_response("The agent or inference service timed out."),
}


@router.post("/api/v1/chats/{id}/completions", response_class=Response,
             responses=TURN_RESPONSES,
             summary="A chat turn: store the message, stream the answer (SSE), store it")
async def chat_completion(id: str, form: TurnForm, runtime: RuntimeDep, conn: Raw,
                          session: Session, request: Request, user: CurrentUser,
                          token: UserToken) -> Response:
    begun = await begin_in(session, current_access(request), lambda owner: begin_stored(
        runtime.turns, conn, id, user, token, form, owner=owner), id)
    return await respond(begun, form.stream, ours, lambda message: message)


@router.post("/api/chat/completions", response_class=Response, responses=TURN_RESPONSES,
             summary="Open WebUI's chat completion (a chat turn)")
async def openwebui_completion(runtime: RuntimeDep, conn: Raw, session: Session,
                               user: CurrentUser, token: UserToken, request: Request,
                               body: dict[str, Any] = Body(...)) -> Response:
    if body.get("session_id") is not None:  # the web app's: answered at once, heard on sockets
        return await tasks.webapp_turn(request, conn, session, user, token, body)
    form, chat_id, messages = from_openwebui(body)
    if chat_id is None:
        begun = begin_unstored(runtime.turns, user, token, form, messages)
    else:
        system = [{"role": "system", "content": m.get("content")} for m in messages
                  if isinstance(m, dict) and m.get("role") == "system"]
        begun = await begin_in(session, current_access(request), lambda owner: begin_stored(
            runtime.turns, conn, chat_id, user, token, form, system, reuse_user_message=True,
            owner=owner), chat_id)
    message_id = begun.turn.message_id
    return await respond(begun, form.stream,
                         openai_encoder(form.model, message_id, chat_id),
                         lambda message: openai_completion(message, form.model, chat_id))


@router.post("/api/chat/completed", response_model=JsonObject,
             responses={404: error_response("No chat chat_id (or not yours).")},
             summary="Open WebUI's end-of-answer call (deprecated there): the body back")
async def completed(conn: Raw, user: CurrentUser, body: JsonObject = Body(...)) -> Json:
    """Open WebUI ran its outlet filters here; its 0.12 turn runs them as it answers, as
    owui's turn does, so the messages come back as sent (without `model_item`), once the chat
    is checked to be the caller's (a temporary chat is in no table: temporary.py)."""
    chat_id = body.get("chat_id")
    if isinstance(chat_id, str) and chat_id and not is_temporary(chat_id):
        await reads.require_chat(conn, chat_id, user.sub)
    return Json({k: v for k, v in body.items() if k != "model_item"})


@router.post("/api/v1/chats/{id}/messages/{message_id}/stop",
             responses={404: error_response("No such chat or message (or not yours)."),
                        409: error_response("Another process of the chat service writes it, "
                                            "and there is no REDIS_URL to reach it.")},
             summary="Stop an answer being written; what was written is kept, as stopped")
async def stop(id: str, message_id: str, runtime: RuntimeDep, conn: Raw,
               user: CurrentUser) -> Json:
    await reads.require_chat(conn, id, user.sub)
    stopped = await runtime.stops.stop_anywhere(conn, id, message_id, user.sub)
    if stopped is None:  # one process, no Redis: the replica writing it is out of reach
        raise ConflictError(f"Message {message_id!r} is being written by another replica of "
                            "the chat service; send the stop there, or wait for it to end.")
    if stopped.message is None:
        raise MessageNotFound(id, message_id)
    return Json(stopped.message)  # one already ended: stopping it again changes nothing
