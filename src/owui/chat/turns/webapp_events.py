"""A web-app turn heard on the user's sockets, in the order and shapes Open WebUI 0.12 sends
them (its samples: `openwebui-0.12.4-samples.json`):

    chat:list             {chat_id, folder_id}        (message_id: the user's message)
    chat:active           {active: true, folder_id}
    chat:title            the user's message           (a new chat: its title until titled)
    response:completion   the opening chunk, then one `response.output_text.delta` a token
    status                retrieval's and tools' progress, as they come
    chat:completion       {sources}                    when retrieval found some
    chat:completion       the closing chunk            (finish_reason, usage)
    chat:list             again, the answer stored (and the chat unread unless a page of it
                          is open: realtime/read_marks.py)
    chat:completion       {done, output, title}        or {error} when the turn failed
    chat:message:follow_ups {follow_ups}               when asked for
    chat:tags             [names]                      a new chat, when asked for
    chat:active           {active: false, folder_id}

While the answer is written, its whole output so far also goes to the pages that joined the
chat (its room), but the one that sent it, as `chat:completion {output}` at most every
REFRESH_S (as Open WebUI sends it to the chat's room): the app takes it in place of its text.
A page reloaded mid-answer joins the chat while it still loads it, so the one-off catch-up of
its join may come before the page has the message, which the store holds empty until the
answer ends (no write a token); the next refresh gives it the whole text, the deltas add to it.

The title, follow-ups and tags come from the agent's tasks, as the pipeline's own titler does,
and are stored: the title unless the user renamed the chat meanwhile, the follow-ups on the
answer (`followUps`, beside its `output` and `meta.task_id`, as Open WebUI keeps them), the
tags on the chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from owui.chat import reads
from owui.chat.models import now
from owui.chat.rawdb import RawConnection, encode_json
from owui.chat.realtime import read_marks
from owui.chat.realtime.emitter import Emitter
from owui.chat.turns.events import Event
from owui.chat.turns.running import Turns
from owui.chat.turns.store import merge_extra
from owui.chat.turns.title import MAX_TAGS, MAX_TITLE_CHARS, apply_title_and_tags
from owui.chat.turns.turn import Turn
from owui.chat.turns.webapp import WebTurn, WebTurns
from owui.core.background import cancel_and_wait

log = logging.getLogger("owui.chat.turns")
MAX_FOLLOW_UPS = 5
REFRESH_S = 0.15  # seconds between two refreshes of the whole output (Open WebUI's throttle)
# An output unchanged is sent again this often: a page loaded during a pause (a tool running,
# a slow model) has the text before the next token.
IDLE_REFRESH_S = 1.0


class Relay:
    """One web turn's events to its user's sockets, then the work after the answer."""

    def __init__(self, web: WebTurn, turns: Turns, emitter: Emitter) -> None:
        self.web = web
        self.turns = turns
        self.emitter = emitter
        turn = web.begun.turn
        self.turn = turn
        self.head = {"id": f"chatcmpl-{turn.message_id}", "object": "chat.completion.chunk",
                     "created": int(time.time()), "model": turn.model}
        self.usage: dict[str, Any] | None = None
        # Held while a delta is added to `said` and sent, and while the whole output is: on
        # every socket a refresh comes after the deltas it holds, and before the others.
        self.speech = asyncio.Lock()

    async def emit(self, kind: str, data: Any, message_id: str | None = None) -> None:
        web = self.web
        await self.emitter.emit(web.user_id, web.chat_id, message_id or self.turn.message_id,
                                kind, data)

    def _where(self, **data: Any) -> dict[str, Any]:
        return {**data, "folder_id": self.web.folder_id}

    async def run(self) -> None:
        web = self.web
        if web.title is None:  # a stored chat: read while the run begins
            async with self.turns.pool.acquire() as conn:
                row = await reads.find_chat(conn, web.chat_id, web.user_id)
            web.folder_id, web.title = (row.folder_id, row.title) if row else (None, "")
        web.speaking = True
        web.said = web.prefix or ""  # a continued answer's refreshes hold its text before
        await self.emit("chat:list", {"chat_id": web.chat_id, "folder_id": web.folder_id},
                        web.user_message_id)
        await self.emit("chat:active", self._where(active=True))
        if web.new_chat:
            await self.emit("chat:title", _provisional_title(self.turn))
        await self.emit("response:completion", {**self.head, "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": ""},
             "finish_reason": None}]})
        ended: Event = {"type": "error", "detail": "The turn ended without an answer."}
        refresher = None if web.temporary else asyncio.create_task(
            self.refresh(), name=f"webapp-refresh-{web.task_id}")
        try:
            async for event in web.begun.events():
                if event["type"] in ("done", "error"):
                    ended = event
                    break
                await self.relay(event)
        finally:  # never mid-send: the end's events follow the last refresh
            async with self.speech:
                await cancel_and_wait(refresher)
        if web.prefix is not None:
            await self._store_continued()
        await self._read_mark()
        try:
            if ended["type"] == "error":
                await self.emit("chat:completion", {"error": {"content": ended.get("detail")},
                                                    "done": True})
            else:
                await self.answered()
        finally:
            await self.emit("chat:active", self._where(active=False))

    async def relay(self, event: Event) -> None:
        """One of the run's events (turn.py applied it to the message already)."""
        kind = event["type"]
        if kind == "token":
            delta = event.get("content") or ""
            async with self.speech:  # contended only while a refresh is being sent
                self.web.said += delta
                await self.emit("response:completion", {
                    "type": "response.output_text.delta", "item_id": self.web.item_id,
                    "output_index": 0, "content_index": 0, "delta": delta})
        elif kind == "status":
            emitted = event.get("event") or {}
            await self.emit("status", emitted.get("data") or emitted)
        elif kind == "citations":
            await self.emit("chat:completion", {"sources": event.get("sources") or []})
        elif kind == "tool_call":
            await self.emit("status", {"action": "tool_call", "name": event.get("name"),
                                       "description": f"Calling {event.get('name')}",
                                       "done": False})
        elif kind == "tool_result":
            call = next((c for c in self.turn.tool_calls if c["id"] == event.get("id")), {})
            await self.emit("status", {"action": "tool_call", "name": call.get("name"),
                                       "description": f"Called {call.get('name')}",
                                       "error": bool(event.get("error")), "done": True})
        elif kind == "usage":
            self.usage = event.get("usage")

    async def refresh(self) -> None:
        """The whole output so far to the chat's room, every REFRESH_S while it grows (every
        IDLE_REFRESH_S while it does not) and at once when a page joins, until cancelled as
        the answer ends. The page that sent the turn is skipped: it hears every delta."""
        web = self.web
        sent, sent_at = "", 0.0
        while True:
            with contextlib.suppress(TimeoutError):  # a page joined (WebTurns.catch_up): now
                await asyncio.wait_for(web.joined.wait(), REFRESH_S)
            joined = web.joined.is_set()
            web.joined.clear()
            if not joined and (not web.said or (
                    web.said == sent and time.monotonic() - sent_at < IDLE_REFRESH_S)):
                continue
            async with self.speech:
                sent, sent_at = web.said, time.monotonic()
                await self.emitter.emit_to_chat(
                    web.chat_id, self.turn.message_id, "chat:completion",
                    {"output": web.output(sent, "in_progress")}, skip_sid=web.session_id or None)

    async def answered(self) -> None:
        web, turn = self.web, self.turn
        finish = "length" if turn.finish_reason == "step_limit" else "stop"
        closing = {**self.head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        await self.emit("chat:completion", {**closing, **({"usage": self.usage}
                                                          if self.usage else {})})
        await self._store_on_answer({"output": self.output()})
        exchange = [turn.body["messages"][-1], {"role": "assistant", "content": turn.content}]
        title = web.title
        if self._wanted(web.tasks.title_generation, first_only=True):
            generated = await self._task("title", exchange)
            if isinstance(generated, str) and generated.strip():
                title = generated.strip()[:MAX_TITLE_CHARS]
                await apply_title_and_tags(self.turns, web.chat_id, web.user_id, title, None)
        await self.emit("chat:list", {"chat_id": web.chat_id, "folder_id": web.folder_id})
        await self.emit("chat:completion", {"done": True, "output": self.output(),
                                            "title": title})
        if self._wanted(web.tasks.follow_up_generation):
            follow_ups = await self._task("follow_up", [*turn.body["messages"], exchange[1]])
            if isinstance(follow_ups, list):
                kept = [f for f in follow_ups if isinstance(f, str) and f.strip()]
                kept = kept[:MAX_FOLLOW_UPS]  # what the app shows
                await self._store_on_answer({"followUps": kept})
                await self.emit("chat:message:follow_ups", {"follow_ups": kept})
        if self._wanted(web.tasks.tags_generation, first_only=True):
            tags = await self._task("tags", exchange)
            if isinstance(tags, list):
                names = [t.strip() for t in tags if isinstance(t, str) and t.strip()][:MAX_TAGS]
                await apply_title_and_tags(self.turns, web.chat_id, web.user_id, None, names)
                await self.emit("chat:tags", names)

    def output(self) -> list[dict[str, Any]]:
        """The final answer as Open WebUI 0.12's `output` items (a continued one whole)."""
        status = "completed" if self.turn.status == "done" else "incomplete"
        return self.web.output((self.web.prefix or "") + self.turn.content, status)

    async def _store_continued(self) -> None:
        """A continued answer is not written by the pipeline (its message exists): its text
        before and what the model added, stored once it ends, however it ends."""
        web, turn = self.web, self.turn
        content = (web.prefix or "") + turn.content
        fields = {"done": True, "output": self.output()}

        async def job(writer: RawConnection) -> None:
            params = {"chat_id": web.chat_id, "id": turn.message_id}
            rows = await writer.fetch("SELECT extra FROM messages WHERE chat_id = :chat_id"
                                      " AND id = :id", params)
            if rows:
                extra = {**(writer.decode_json(rows[0][0]) or {}), **fields}
                await writer.execute(
                    "UPDATE messages SET content = :content, extra = :extra, updated_at = :now"
                    " WHERE chat_id = :chat_id AND id = :id",
                    {**params, "content": content, "extra": encode_json(extra), "now": now()})

        try:
            await self.turns.write(job)
        except Exception:  # the text before stays stored; the app has the whole on screen
            log.exception("storing the continued answer %s failed", turn.message_id)

    async def _read_mark(self) -> None:
        """The answer ended: unread unless a page of the chat shows it (read_marks.py)."""
        web = self.web
        if web.temporary:
            return
        seen = self.emitter.watching(web.chat_id)
        try:
            await self.turns.write(
                lambda w: read_marks.answer_ended(w, web.chat_id, web.user_id, seen))
        except Exception:  # a nicety: the answer is stored all the same
            log.exception("marking chat %s after its answer failed", web.chat_id)

    async def _task(self, kind: str, messages: list[dict[str, Any]]) -> Any:
        """One of the agent's tasks; a failure is logged and gives None (a nicety)."""
        turn = self.turn
        try:
            return await self.turns.agent.task(kind, turn.token, turn.model, messages)
        except Exception as exc:
            log.warning("the %s task of chat %s failed: %s", kind, turn.chat_id, exc)
            return None

    def _wanted(self, asked: bool, first_only: bool = False) -> bool:
        """A task the app asked for, while the answer stands (done, not stopped); the title
        and tags only for a new chat."""
        web = self.web
        return (asked and self.turn.status == "done" and not web.stopped
                and (web.new_chat or not first_only))

    async def _store_on_answer(self, fields: dict[str, Any]) -> None:
        """Fields added to the stored answer (Open WebUI keeps them on the message)."""
        if self.web.temporary:
            return
        chat_id, message_id = self.web.chat_id, self.turn.message_id
        await self.turns.write(lambda w: merge_extra(w, chat_id, message_id, fields))


def _provisional_title(turn: Turn) -> str:
    """Open WebUI titles a new chat with the user's message until it is titled."""
    content = turn.body["messages"][-1].get("content") if turn.body.get("messages") else ""
    if isinstance(content, list):
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "").strip()[:MAX_TITLE_CHARS]


def launch(webturns: WebTurns, web: WebTurn, emitter: Emitter) -> asyncio.Task[None]:
    """The relay, in the turns' background work (cancelled when the service stops); the turn
    is listed by /api/tasks until its relay has ended. A new chat's relay waits until the
    request has answered (`web.answered`); in a known chat it speaks at once."""
    webturns.running[web.task_id] = web
    relay = Relay(web, webturns.turns, emitter)

    async def run() -> None:
        try:
            if web.new_chat:
                await web.answered.wait()
            await relay.run()
        except Exception:  # the turn itself is stored all the same
            log.exception("relaying the web-app turn %s failed", web.task_id)
        finally:
            webturns.running.pop(web.task_id, None)

    task = asyncio.create_task(run(), name=f"webapp-turn-{web.task_id}")
    background = webturns.turns.background
    background.add(task)
    task.add_done_callback(background.discard)
    return task
