"""A turn from its form to its answer: the first write, the history the model sees, the agent's
run, the response (a stream that only listens to the turn, or the finished message), and the
title of a new chat after its first exchange."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from owui.chat import context, reads, turn_store
from owui.chat.crud.tags import tag_id
from owui.chat.models import new_id, now
from owui.chat.rawdb import RawConnection
from owui.chat.responses import Json
from owui.chat.tree import MessageIn, message_out, parse_message
from owui.chat.turn_events import DONE, Event
from owui.chat.turn_forms import TurnForm
from owui.chat.turns import Turn, Turns
from owui.chat.writes import DEFAULT_TITLE, add_tags
from owui.core.http import call_service
from owui.core.tokens import Claims

log = logging.getLogger("owui.chat.turns")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
MAX_TAGS = 5


def turns_of(request: Request) -> Turns:
    return request.app.state.turns


@dataclass
class Begun:
    turn: Turn
    start: Event  # the stream's first event: the stored messages
    queue: asyncio.Queue[Event | None]  # listening since before the turn started


def _messages(form: TurnForm) -> tuple[MessageIn | None, MessageIn]:
    stamp = now()
    user = None
    if not form.regenerate():
        raw = {"id": form.user_message_id or new_id(), "role": "user", "content": form.content,
               "timestamp": stamp, "models": [form.model]}
        if form.files:
            raw["files"] = form.files
        user = parse_message(raw)
    assistant = parse_message({"id": form.message_id or new_id(), "role": "assistant",
                               "content": "", "model": form.model, "timestamp": stamp,
                               "done": False, "status": "pending"})
    return user, assistant


def run_body(form: TurnForm, messages: list[dict[str, Any]], chat_id: str | None
             ) -> dict[str, Any]:
    return {**form.params, "model": form.model, "messages": messages,
            "tool_ids": form.tool_ids, "filter_ids": form.filter_ids,
            "files": form.attachments(), "features": form.features,
            "web_search": form.web_search, "chat_id": chat_id}


def model_messages(form: TurnForm, settings_tokens: int, system: list[dict[str, Any]],
                   history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history as the model takes it, trimmed to its context (see context.py)."""
    prompt = [*system, *([{"role": "system", "content": form.system}] if form.system else [])]
    kept = [m for m in map(context.model_message, history) if m is not None]
    num_ctx = form.params.get("num_ctx")
    length = form.context_length or (num_ctx if isinstance(num_ctx, int) and num_ctx > 0
                                     else settings_tokens)
    trimmed = context.trim(prompt, kept, context.budget(length, form.max_tokens()))
    if trimmed.dropped:
        log.info("turn history trimmed: %d older messages left out", trimmed.dropped)
    return trimmed.messages


async def _placed(conn: RawConnection, chat_id: str, user: Claims, form: TurnForm,
                  reuse_user_message: bool) -> tuple[list[MessageIn], list[dict[str, Any]], bool]:
    """The new messages with their parents (the given one, else the chat's current message),
    the branch the model sees, and whether this is the chat's first exchange to title."""
    row = await reads.require_chat(conn, chat_id, user.sub)
    user_message, assistant = _messages(form)
    given = "parent_id" in form.model_fields_set
    parent = form.parent_id if given else row.current_message_id
    # Only ids a client chose can be taken already (ours are new uuids): look those up.
    chosen = [i for i in (form.user_message_id, form.message_id) if i]
    known = await turn_store.roles(conn, chat_id, chosen) if chosen else {}
    if reuse_user_message and user_message is not None and known.get(user_message.id) == "user":
        parent, user_message = user_message.id, None  # Open WebUI stored it already
        known.pop(parent)
    if user_message is not None:
        user_message.parent_id, assistant.parent_id = parent, user_message.id
    else:
        assistant.parent_id = parent
    history = await reads.branch(conn, chat_id, parent) if parent else []
    if history:  # the branch ends at the parent: it is in the chat, with this role
        known[history[-1]["id"]] = history[-1]["role"]
    new = [m for m in (user_message, assistant) if m is not None]
    turn_store.check_place(chat_id, new, known)
    if user_message is not None:
        history.append(message_out(user_message, []))
    first = user_message is not None and parent is None and row.title == DEFAULT_TITLE
    return new, history, first


async def begin_stored(turns: Turns, conn: RawConnection, chat_id: str, user: Claims,
                       token: str, form: TurnForm, system: list[dict[str, Any]] | None = None,
                       reuse_user_message: bool = False) -> Begun:
    """Starts the turn. The agent's run starts as soon as the history is read; the first write
    (the user's message and the pending answer) goes on meanwhile, so its disk sync is not in
    the time to the first token. Under a lock per chat, from the read to the write: turns
    sent at once into one chat are stored one after the other, each after the one before.
    Should the write fail (the chat changed in between), the run is dropped and the error
    answered."""
    form.check()
    async with turns.lock(chat_id):
        new, history, first = await _placed(conn, chat_id, user, form, reuse_user_message)
        messages = model_messages(form, turns.settings.chat_context_tokens, system or [],
                                  history)
        assistant = new[-1]
        turn = Turn(chat_id, assistant.id, user.sub, token, run_body(form, messages, chat_id),
                    dict(assistant.extra or {}), form.model, parent_id=assistant.parent_id,
                    after=_titler(turns, chat_id, user.sub) if first else None)
        queue = turn.listen()
        turns.launch(turn)
        await turns.first_write(turn, conn, lambda writer: turn_store.begin(
            writer, chat_id, user.sub, new))
    user_message = new[0] if len(new) == 2 else None
    return Begun(turn, {"type": "start", "chat_id": chat_id,
                        "user_message": message_out(user_message, [assistant.id])
                        if user_message else None,
                        "message": message_out(assistant, [])}, queue)


def begin_unstored(turns: Turns, user: Claims, token: str, form: TurnForm,
                   messages: list[dict[str, Any]]) -> Begun:
    """Open WebUI's call without a chat: the turn runs on the messages sent, nothing stored."""
    form.check()
    history = [{"role": m.get("role"), "content": m.get("content")} for m in messages]
    system = [m for m in history if m["role"] == "system"]
    rest = [m for m in history if m["role"] != "system"]
    body = run_body(form, model_messages(form, 10_000_000, system, rest), None)
    message_id = form.message_id or new_id()
    turn = Turn(None, message_id, user.sub, token, body, {}, form.model)
    queue = turn.listen()
    turns.launch(turn)
    return Begun(turn, {"type": "start", "chat_id": None, "user_message": None,
                        "message": {"id": message_id, "role": "assistant", "content": ""}},
                 queue)


async def respond(begun: Begun, stream: bool, encode: Callable[[Event], bytes],
                  final: Callable[[dict[str, Any]], Any]) -> Response:
    """The answer: a stream that only listens to the turn (a client that leaves stops
    listening, the turn goes on), or, for `stream` false, the finished message. A run the
    agent refused before its first event answers with the agent's status, as JSON."""
    turn, queue = begun.turn, begun.queue
    await asyncio.shield(turn.first)
    if turn.events == 0 and turn.status == "error":
        turn.listeners.discard(queue)
        return JSONResponse({"detail": turn.error}, turn.error_status)
    if not stream:
        turn.listeners.discard(queue)
        assert turn.task is not None
        await asyncio.shield(turn.task)
        return Json(final(turn.message or {}))

    async def body() -> AsyncIterator[bytes]:
        try:
            yield encode(begun.start)
            while (event := await queue.get()) is not None:
                yield encode(event)
            yield DONE
        finally:
            turn.listeners.discard(queue)

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)


def _titler(turns: Turns, chat_id: str, user_id: str) -> Callable[[Turn], Any]:
    async def title(turn: Turn) -> None:
        exchange = [turn.body["messages"][-1],
                    {"role": "assistant", "content": turn.content}]
        values = {kind: await _task(turns, turn, kind, exchange) for kind in ("title", "tags")}
        await _apply_title(turns, chat_id, user_id, values["title"], values["tags"])

    return title


async def _task(turns: Turns, turn: Turn, kind: str, exchange: list[dict[str, Any]]) -> Any:
    """One of the agent's tasks (title, tags); a failure is logged and gives None."""
    try:
        response = await call_service(turns.client, turns.settings, "agent", "POST",
                                      f"/api/v1/tasks/{kind}/completions", turn.token,
                                      json={"model": turn.model, "messages": exchange})
        if response.status_code != 200:
            log.warning("the %s task of chat %s failed: %s %s", kind, turn.chat_id,
                        response.status_code, response.text[:300])
            return None
        return response.json().get(kind)
    except Exception as exc:  # a title is a nicety: never let it break anything
        log.warning("the %s task of chat %s failed: %s", kind, turn.chat_id, exc)
        return None


async def _apply_title(turns: Turns, chat_id: str, user_id: str, title: Any,
                       tags: Any) -> None:
    names = [t.strip() for t in tags if isinstance(t, str) and t.strip()][:MAX_TAGS] \
        if isinstance(tags, list) else []
    ids = {tag_id(name): name for name in names if tag_id(name) not in ("", "none")}
    title = title.strip()[:200] if isinstance(title, str) and title.strip() else None

    async def job(writer: RawConnection) -> None:
        if title:  # unless the user renamed it meanwhile
            await writer.execute("UPDATE chats SET title = :title WHERE id = :id"
                                 " AND user_id = :user_id AND title = :default",
                                 {"title": title, "id": chat_id, "user_id": user_id,
                                  "default": DEFAULT_TITLE})
        await add_tags(writer, {(user_id, t): n for t, n in ids.items()},
                       [(chat_id, t, user_id) for t in ids])

    if title or ids:
        await turns.write(job)
