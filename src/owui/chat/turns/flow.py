"""A chat turn from its form to its first write, top to bottom; `respond` (respond.py) then
answers from the turn's events. Each stage is a function of its own module:

    parse     forms.parse        the form, read once into an `Ask`
    place     placing.place      the new messages under their parent; the branch they end
    history   context.history    the branch as the model takes it
    trim      context.fit        the system prompt and the newest history that fits the model
    run       Turns.launch       the agent's run, in a task of its own (running.py, turn.py)
    store     store.begin        the first write, while the run begins (the last: store.finish)
    respond   respond.respond    the events as they come (SSE), or the finished message

A turn with a chat (`begin_stored`) is placed, read and written under the chat's lock: turns
sent at once into one chat are stored one after the other, each after the one before. The
agent's run starts as soon as the history is read; the first write (the user's message and the
pending answer) goes on meanwhile, so its disk sync is not in the time to the first token.
Should the write fail (the chat changed in between), the run is dropped and the error answered.
Open WebUI's call without a chat (`begin_unstored`) runs on the messages sent; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from owui.chat.rawdb import RawConnection
from owui.chat.tree import message_out
from owui.chat.turns import store
from owui.chat.turns.context import fit, history
from owui.chat.turns.forms import TurnForm, parse
from owui.chat.turns.memories import memory_messages
from owui.chat.turns.placing import place
from owui.chat.turns.respond import Begun
from owui.chat.turns.running import Turns
from owui.chat.turns.title import titler
from owui.chat.turns.turn import Turn
from owui.core.tokens import Claims

# The context of a turn without a chat when the form gives none: the client chose what to send.
UNSTORED_CONTEXT_TOKENS = 10_000_000
Messages = list[dict[str, Any]]


async def begin_stored(turns: Turns, conn: RawConnection, chat_id: str, user: Claims,
                       token: str, form: TurnForm, system: Sequence[dict[str, Any]] = (),
                       reuse_user_message: bool = False, owner: str | None = None,
                       extra: Callable[[str], dict[str, Any]] | None = None,
                       titled: bool = True) -> Begun:
    """A turn in a chat, begun. `system`: system messages before the form's own prompt;
    `reuse_user_message`: see placing.place; `owner`: the chat's, when it is not the
    caller's (a reply through a share link: crud/shares.reply_owner); `extra`: fields the
    answer (given its id) is stored with, set before its run starts (a fast run may end
    before this returns); `titled`: False when the caller titles the chat itself."""
    ask = parse(form, user)
    system = [*system, *await memory_messages(turns.settings, conn, user, token, form)]
    owner = owner or user.sub
    async with turns.lock(chat_id):
        placed = await place(conn, chat_id, owner, ask,
                             reuse_user_message=reuse_user_message)
        messages = fit([*system, *ask.system_messages()], history(placed.branch),
                       ask.context_length or turns.settings.chat_context_tokens,
                       ask.max_tokens)
        answer = placed.answer
        turn = Turn(chat_id, answer.id, user.sub, token, ask.run_body(messages, chat_id),
                    {**(answer.extra or {}), **(extra(answer.id) if extra else {})}, ask.model,
                    parent_id=answer.parent_id,
                    after=titler(turns, chat_id, user.sub) if placed.first and titled else None)
        listening = turn.listen()  # before the run starts: no event is missed
        turns.launch(turn)
        await turns.first_write(turn, conn, lambda writer: store.begin(
            writer, chat_id, owner, placed.new))
    user_message = placed.user_message
    return Begun(turn, {"type": "start", "chat_id": chat_id,
                        "user_message": message_out(user_message, [answer.id])
                        if user_message else None,
                        "message": message_out(answer, [])}, listening)


def begin_unstored(turns: Turns, user: Claims, token: str, form: TurnForm,
                   sent: Messages, chat_id: str | None = None) -> Begun:
    """A turn without a chat, begun, on the messages `sent` (their system messages first).
    `chat_id`: the chat the run is about, when its caller stores the answer itself (an
    answer continued: turns/webapp.py)."""
    ask = parse(form, user)
    sent = [{"role": m.get("role"), "content": m.get("content")} for m in sent
            if isinstance(m, dict)]
    system = [m for m in sent if m["role"] == "system"]
    messages = fit([*system, *ask.system_messages()],
                   history(m for m in sent if m["role"] != "system"),
                   ask.context_length or UNSTORED_CONTEXT_TOKENS, ask.max_tokens)
    answer = ask.answer
    turn = Turn(None, answer.id, user.sub, token, ask.run_body(messages, chat_id), {},
                ask.model)
    listening = turn.listen()
    turns.launch(turn)
    return Begun(turn, {"type": "start", "chat_id": None, "user_message": None,
                        "message": {"id": answer.id, "role": "assistant", "content": ""}},
                 listening)
