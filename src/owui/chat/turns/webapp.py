"""Open WebUI 0.12's web-app turn: `POST /api/chat/completions` with `session_id`.

The app sends no `messages` (the history is the chat's, in the store) but the new user message
(`user_message`, with the id it chose), the assistant message's id (`id`), its parent
(`parent_id`) and `chat_id` (none for a new chat, which is made here first). The turn is begun
through the same pipeline as every turn (flow.begin_stored: place, history, trim, run, store;
a temporary chat, `temporary:...`, flow.begin_unstored on the messages it sends),
the request answered at once with `{status, task_ids, chat_id}`, and the turn's events go to
the user's sockets (webapp_events.py) instead of an SSE stream. The task id is the assistant
message's id: the turns table (store.py), shared by every replica, knows the running ones.

Only model parameters of `params` reach the provider (MODEL_PARAMS): the app's own keys, top
level or in `params`, are the app's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from owui.chat import reads, writes
from owui.chat.clients.agent import run_error
from owui.chat.errors import InvalidChat, NotInTree
from owui.chat.limits import MAX_MESSAGE_ID_CHARS
from owui.chat.rawdb import RawConnection
from owui.chat.temporary import is_temporary
from owui.chat.tree import parse_chat
from owui.chat.turns.flow import begin_stored, begin_unstored
from owui.chat.turns.forms import TurnForm
from owui.chat.turns.respond import Begun
from owui.chat.turns.running import Turns
from owui.core.background import cancel_and_wait
from owui.core.tokens import Claims

log = logging.getLogger("owui.chat.turns")
ID = Field(None, min_length=1, max_length=MAX_MESSAGE_ID_CHARS)
# What of `params` is a model parameter (OpenAI's, and the Ollama options the inference service
# translates); the rest (`function_calling`, `stream_response`, `custom_params`, ...) is the
# app's. `system` is the system prompt, taken apart.
MODEL_PARAMS = frozenset({
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
    "frequency_penalty", "presence_penalty", "logit_bias", "reasoning_effort",
    "response_format", "n", "logprobs", "top_logprobs",
    "num_ctx", "top_k", "min_p", "num_predict", "repeat_penalty", "repeat_last_n", "mirostat",
    "mirostat_eta", "mirostat_tau", "tfs_z", "typical_p", "num_keep", "num_batch", "num_gpu",
    "num_thread", "use_mmap", "use_mlock", "keep_alive", "think"})
MAX_MODELS = 8  # models asked at once (the app's side-by-side columns)
# How long the request waits for the run to be refused (an unknown model, a tool not the
# user's: the agent says so at once) before it answers: a refused turn answers its error, and
# a chat made for it is removed; past this, an error ends the turn as a socket event.
REFUSAL_WAIT = 3.0


class UserMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(min_length=1, max_length=MAX_MESSAGE_ID_CHARS)
    parentId: str | None = Field(None, max_length=MAX_MESSAGE_ID_CHARS)
    content: str | list[dict[str, Any]]
    files: list[dict[str, Any]] | None = None
    # The models asked at once: the app shows their answers side by side when it has 2+.
    models: list[str] | None = Field(None, max_length=MAX_MODELS)


class BackgroundTasks(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title_generation: bool = False
    tags_generation: bool = False
    follow_up_generation: bool = False


class ModelAnswer(BaseModel):
    """One entry of `message_ids`: a model the turn asks, its answer's id, its column."""

    model_config = ConfigDict(extra="ignore")

    model_id: str = Field(min_length=1, max_length=300)
    message_id: str = Field(min_length=1, max_length=MAX_MESSAGE_ID_CHARS)
    modelIdx: int = Field(0, ge=0, le=100)


class WebAppBody(BaseModel):
    """The app's body (`Chat.svelte`, `sendMessageSocket`); keys not read here are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=300)
    session_id: str = Field(min_length=1, max_length=256)
    chat_id: str | None = Field(None, min_length=1, max_length=MAX_MESSAGE_ID_CHARS)
    id: str | None = ID
    parent_id: str | None = Field(None, max_length=MAX_MESSAGE_ID_CHARS)
    user_message: UserMessage
    messages: list[dict[str, Any]] | None = Field(None, max_length=10_000)
    params: dict[str, Any] | None = None
    files: list[dict[str, Any]] | None = Field(None, max_length=100)
    tool_ids: list[str] | None = Field(None, max_length=64)
    filter_ids: list[str] | None = Field(None, max_length=64)
    features: dict[str, Any] | None = None
    folder_id: str | None = Field(None, min_length=1, max_length=MAX_MESSAGE_ID_CHARS)
    background_tasks: BackgroundTasks | None = None
    # Continue an answer: the answer's own id (also `id`), whose text the model goes on from.
    assistant_message_id: str | None = ID
    # Several models at once: each model's answer id and column (the first is `model`, `id`).
    message_ids: list[ModelAnswer] | None = Field(None, max_length=MAX_MODELS)

    def form(self) -> TurnForm:
        """The turn as our form: the user's message under `parent_id`, the answer `id`."""
        params = self.params or {}
        system = params.get("system")
        fields: dict[str, Any] = {
            "model": self.model, "content": self.user_message.content,
            "parent_id": self.parent_id if "parent_id" in self.model_fields_set
            else self.user_message.parentId,
            "user_message_id": self.user_message.id, "message_id": self.id,
            "models": self.user_message.models or None,
            "files": self.files or self.user_message.files or [],
            "tool_ids": self.tool_ids or [], "filter_ids": self.filter_ids or [],
            "features": self.features or {},
            "web_search": bool((self.features or {}).get("web_search")),
            "params": {k: v for k, v in params.items() if k in MODEL_PARAMS},
            "system": system if isinstance(system, str) and system else None}
        try:
            return TurnForm.model_validate(fields)
        except ValidationError as exc:
            raise InvalidChat(_errors(exc)) from None

    def others(self) -> list[WebAppBody]:
        """The bodies of the other models' answers (`message_ids` past the first), each its
        own turn on the same user message."""
        return [self.model_copy(update={"model": a.model_id, "id": a.message_id})
                for a in (self.message_ids or [])[1:] if a.message_id != self.id]

    def answer_extra(self, answer_id: str) -> dict[str, Any]:
        """What the answer is stored with from its start: its task id and, among several
        models, its column (kept for the reload). The title and tags are this turn's work
        after the answer (webapp_events.py), in the order the app hears them: the turn is
        begun without the pipeline's own titler."""
        extra: dict[str, Any] = {"meta": {"task_id": answer_id}}
        if (column := self.column()) is not None:
            extra["modelIdx"] = column
        return extra

    def column(self) -> int | None:
        """The answer's column among several models (Open WebUI's `modelIdx`)."""
        for answer in self.message_ids or ():
            if answer.message_id == self.id:
                return answer.modelIdx
        return None

    def system_messages(self) -> list[dict[str, Any]]:
        """The app sends no history for a stored chat; a system prompt may come as messages."""
        return [{"role": "system", "content": m.get("content")} for m in self.messages or ()
                if isinstance(m, dict) and m.get("role") == "system"]


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:10])


def read_body(body: dict[str, Any]) -> WebAppBody:
    try:
        return WebAppBody.model_validate(body)
    except ValidationError as exc:
        raise InvalidChat(_errors(exc)) from None


@dataclass
class WebTurn:
    """A web-app turn: its answer being written, then the work after it (title, follow-ups,
    tags), all heard on the user's sockets; listed by /api/tasks until it has all ended."""

    task_id: str
    chat_id: str
    user_id: str
    token: str
    user_message_id: str
    folder_id: str | None
    title: str | None  # the chat's title as the turn began (None: not read yet)
    new_chat: bool  # made for this turn: titled and tagged once answered
    tasks: BackgroundTasks
    begun: Begun
    temporary: bool = False  # a chat the app keeps (temporary.py): nothing stored
    stopped: bool = False  # stopped by the user: the work after the answer is not done
    # Set once the request answered: the relay of a new chat waits for it, since the app
    # knows the chat's id only from the answer.
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    item_id: str = field(default_factory=lambda: f"msg_{uuid.uuid4().hex[:24]}")  # `output`'s
    said: str = ""  # the text the sockets have heard so far (the relay's deltas)
    session_id: str = ""  # the socket that sent it (hears every delta: no refresh of the whole)
    # Set when a page joins the chat mid-answer: the relay sends the output so far at once.
    joined: asyncio.Event = field(default_factory=asyncio.Event)
    speaking: bool = False  # the relay has begun: the app knows the answer
    # A continued answer: its text before (the model goes on from it); None for a new one.
    prefix: str | None = None

    def output(self, text: str, status: str) -> list[dict[str, Any]]:
        """The answer as Open WebUI 0.12's `output` items (the Responses API's message)."""
        return [{"type": "message", "id": self.item_id, "status": status, "role": "assistant",
                 "content": [{"type": "output_text", "text": text}]}]


class WebTurns:
    """The web-app turns this process runs, by task id."""

    def __init__(self, turns: Turns) -> None:
        self.turns = turns
        self.running: dict[str, WebTurn] = {}

    def of_chat(self, chat_id: str) -> list[WebTurn]:
        return [t for t in self.running.values() if t.chat_id == chat_id]

    def catch_up(self, user_id: str, chat_id: str) -> None:
        """A page joined the chat (a reload mid-answer): the relays of its answers being
        written send their output so far to the chat's room now (webapp_events.py: in order
        with the deltas, which a reply sent from here could overtake or repeat)."""
        for t in self.of_chat(chat_id):
            if t.user_id == user_id and t.speaking:
                t.joined.set()

    async def stop(self, web: WebTurn) -> None:
        """The answer stops where it is (stored as written, stopped); the work after it is
        not done. The relay still says so on the sockets."""
        web.stopped = True
        await self.turns.stop_turn(web.begun.turn)


async def begin_webapp(turns: Turns, conn: RawConnection, user: Claims, token: str,
                       body: WebAppBody, owner: str | None = None) -> WebTurn:
    """The turn begun, in the chat named or a new one; a refusal (bad input, a parent not in
    the chat, another user's chat) raises, leaving nothing stored (see `refusal` and
    `abandon` for a run refused at once). `owner`: the named chat's, when it is another's
    that the caller may reply in (chat/replies.py)."""
    form = body.form()
    form.check()  # before a new chat is made for it
    if body.chat_id is not None and is_temporary(body.chat_id):
        return _begin_temporary(turns, user, token, body.chat_id, body, form)
    if body.chat_id is not None and body.assistant_message_id is not None:
        return await _begin_continue(turns, conn, user, token, body, form, owner)
    if body.chat_id is None:
        if form.parent_id is not None:
            raise NotInTree(f"parent_id {form.parent_id!r} is not a message of the new chat.")
        if body.folder_id is not None:
            await reads.require_folder(conn, body.folder_id, user.sub)
        # The chat object as Open WebUI 0.12 makes it for a new chat (the samples' answer).
        chat = writes.new_chat(user.sub, parse_chat({
            "title": writes.DEFAULT_TITLE, "models": [body.model], "files": [], "tags": [],
            "timestamp": int(time.time() * 1000), "share_mode": "continue"}),
            folder_id=body.folder_id)
        chat.row.data["id"] = chat.row.id
        await conn.write(lambda writer: writes.insert_chats(writer, [chat]))
        chat_id, folder_id, title, new = chat.row.id, body.folder_id, chat.row.title, True
    else:  # placing checks it is the user's; its folder and title are read by the relay,
        # off the path to the first token
        chat_id, folder_id, title, new = body.chat_id, None, None, False
    try:
        begun = await begin_stored(turns, conn, chat_id, user, token, form,
                                   body.system_messages(), reuse_user_message=True,
                                   owner=owner, extra=body.answer_extra, titled=False)
    except BaseException:  # refused: the chat made for it goes again
        if new:
            await _drop_chat(turns, chat_id, user.sub)
        raise
    tasks = body.background_tasks or BackgroundTasks()
    return WebTurn(begun.turn.message_id, chat_id, user.sub, token, body.user_message.id,
                   folder_id, title, new, tasks, begun, session_id=body.session_id)


def _begin_temporary(turns: Turns, user: Claims, token: str, chat_id: str, body: WebAppBody,
                     form: TurnForm) -> WebTurn:
    """A temporary chat (`chat_id` `temporary:...`): the app keeps it and sends its messages; the
    turn runs on them and nothing is stored, as Open WebUI does."""
    sent = [m for m in body.messages or () if isinstance(m, dict)]
    last = sent[-1] if sent else {}
    if last.get("role") != "user" or last.get("content") != body.user_message.content:
        sent.append({"role": "user", "content": body.user_message.content})
    begun = begin_unstored(turns, user, token, form, sent)
    return WebTurn(begun.turn.message_id, chat_id, user.sub, token,
                   body.user_message.id, None, "", False,
                   body.background_tasks or BackgroundTasks(), begun, temporary=True)


async def _begin_continue(turns: Turns, conn: RawConnection, user: Claims, token: str,
                          body: WebAppBody, form: TurnForm, owner: str | None) -> WebTurn:
    """Continue an answer (`assistant_message_id`): the model is given the branch up to and
    with the answer's text, and goes on from there; the answer keeps its id, and its text
    grows (the relay stores the whole once it ends: webapp_events.py)."""
    chat_id, answer_id = body.chat_id or "", body.assistant_message_id or ""
    await reads.require_chat(conn, chat_id, owner or user.sub)
    branch = await reads.branch(conn, chat_id, answer_id)
    if not branch or branch[-1]["role"] != "assistant":
        raise NotInTree(f"assistant_message_id {answer_id!r} is not an answer of chat "
                        f"{chat_id!r}.")
    prefix = branch[-1]["content"] if isinstance(branch[-1]["content"], str) else ""
    form = form.model_copy(update={"message_id": answer_id})
    begun = begin_unstored(turns, user, token, form, [*body.system_messages(), *branch],
                           chat_id=chat_id)
    return WebTurn(begun.turn.message_id, chat_id, user.sub, token,
                   body.user_message.id, None, None, False,
                   BackgroundTasks(follow_up_generation=False), begun,
                   session_id=body.session_id, prefix=prefix)


async def refusal(web: WebTurn) -> None:
    """Raises the run's refusal when the agent refuses it at once (within REFUSAL_WAIT)."""
    begun = web.begun
    with contextlib.suppress(TimeoutError):
        if await asyncio.wait_for(begun.refused(), REFUSAL_WAIT):
            turn = begun.turn
            raise run_error({"status": turn.error_status, "detail": turn.error})


async def abandon(turns: Turns, web: WebTurn) -> None:
    """A turn refused (or whose client went away) before the app heard of it: a chat made
    for it goes, the run with it; in an existing chat the pipeline stores it as it ends."""
    if web.new_chat:
        # The cancelled run stores its end (status error) before the chat goes, not after
        # the delete; a store that fails is logged by the run, and the refusal stands.
        with contextlib.suppress(Exception):
            await cancel_and_wait(web.begun.turn.task)
        await _drop_chat(turns, web.chat_id, web.user_id)


async def _drop_chat(turns: Turns, chat_id: str, user_id: str) -> None:
    """A chat made for a turn that was refused goes again, with whatever the turn wrote."""
    async def job(writer: RawConnection) -> None:
        params = {"chat_id": chat_id}
        await writer.execute("DELETE FROM turns WHERE chat_id = :chat_id", params)
        await writer.execute("DELETE FROM messages WHERE chat_id = :chat_id", params)
        await writer.execute("DELETE FROM chats WHERE id = :chat_id AND user_id = :user_id",
                             {**params, "user_id": user_id})

    try:
        await turns.write(job)
    except Exception:  # the chat stays, empty or with the refused turn: logged, not hidden
        log.exception("removing chat %s after its first turn was refused failed", chat_id)
