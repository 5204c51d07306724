"""A turn's writes: its start (the user's message, the assistant's pending one and the turns row,
in one transaction), its end (the assistant's final message), and the clean-up of turns whose
process died (their messages become errors, so that nothing reads as pending forever).

The parent is picked inside the start's transaction, with the chat row locked on PostgreSQL
(`FOR UPDATE`; SQLite has one writer): two turns sent into one chat at once, from two tabs or
two replicas, are stored one after the other, each on its own branch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, status

from owui.chat.models import now
from owui.chat.rawdb import RawConnection, encode_json
from owui.chat.reads import MESSAGE_SELECT, not_found
from owui.chat.tree import MessageIn, message_out
from owui.chat.writes import INSERT_MESSAGE
from owui.core.runners import runner, runner_dead

log = logging.getLogger("owui.chat.turns")
# A turn's row older than this is taken for dead whoever runs it (another host's process that
# died); no answer takes that long.
STALE_AFTER = 6 * 3600
INTERRUPTED = "Interrupted: the chat service stopped while this answer was being written."


@dataclass
class Start:
    """What a turn starts from: the messages it stored, and the chat as it was."""

    user_message: dict[str, Any] | None  # None: a regenerate (no new user message)
    assistant: dict[str, Any]
    first_exchange: bool  # the user's message is the chat's first: title it after
    title: str


def _row(chat_id: str, message: MessageIn, stamp: int) -> dict[str, Any]:
    return {"chat_id": chat_id, "id": message.id, "parent_id": message.parent_id,
            "role": message.role, "content": message.content, "model": message.model,
            "timestamp": message.timestamp, "extra": encode_json(message.extra),
            "created_at": stamp, "updated_at": stamp}


async def _lock_chat(conn: RawConnection, chat_id: str, user_id: str) -> tuple[str | None, str]:
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    found = await conn.fetch("SELECT current_message_id, title FROM chats"
                             f" WHERE id = :id AND user_id = :user_id{lock}",
                             {"id": chat_id, "user_id": user_id})
    if not found:
        raise not_found(chat_id)
    return found[0][0], found[0][1]


async def _roles(conn: RawConnection, chat_id: str, ids: list[str]) -> dict[str, str]:
    params: dict[str, Any] = {"chat_id": chat_id}
    where = conn.in_list("ids", ids, params)
    rows = await conn.fetch(
        f"SELECT id, role FROM messages WHERE chat_id = :chat_id AND id {where}", params)
    return {row[0]: row[1] for row in rows}


async def _place(conn: RawConnection, chat_id: str, user_message: MessageIn | None,
                 assistant: MessageIn, parent: str | None, known: dict[str, str]) -> None:
    """Set the parents, or raise 400/409 naming what does not fit the chat's tree."""
    if user_message is None:  # regenerate: a new answer under an existing user message
        if parent is None or known.get(parent) != "user":
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                f"To answer again, parent_id must be a user message of chat "
                                f"{chat_id!r}; {parent!r} is not.")
        assistant.parent_id = parent
        return
    if parent is not None and parent not in known:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"parent_id {parent!r} is not a message of chat {chat_id!r}.")
    user_message.parent_id = parent
    assistant.parent_id = user_message.id


async def begin(conn: RawConnection, chat_id: str, user_id: str, *,
                user_message: MessageIn | None, assistant: MessageIn, parent: str | None,
                parent_given: bool, reuse_user_message: bool = False) -> Start:
    """A write job: the turn's first write. `parent_given` False: the chat's current message.
    `reuse_user_message`: a user message whose id is already stored is answered again (Open
    WebUI's front end stores it before it asks for the answer)."""
    current, title = await _lock_chat(conn, chat_id, user_id)
    if not parent_given:
        parent = current
    mine = [m.id for m in (user_message, assistant) if m is not None]
    known = await _roles(conn, chat_id, [*mine, *([parent] if parent else [])])
    if reuse_user_message and user_message is not None and known.get(user_message.id) == "user":
        parent, user_message = user_message.id, None
    taken = [m.id for m in (user_message, assistant) if m is not None and m.id in known]
    if taken:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"Chat {chat_id!r} already has a message {taken[0]!r}.")
    await _place(conn, chat_id, user_message, assistant, parent, known)
    stamp = now()
    new = [m for m in (user_message, assistant) if m is not None]
    await conn.executemany(INSERT_MESSAGE, [_row(chat_id, m, stamp) for m in new])
    await conn.execute("INSERT INTO turns (chat_id, message_id, user_id, runner, started_at)"
                       " VALUES (:chat_id, :message_id, :user_id, :runner, :started_at)",
                       {"chat_id": chat_id, "message_id": assistant.id, "user_id": user_id,
                        "runner": runner(), "started_at": stamp})
    await conn.execute("UPDATE chats SET updated_at = :now, current_message_id = :current"
                       " WHERE id = :id", {"now": stamp, "current": assistant.id, "id": chat_id})
    first = user_message is not None and user_message.parent_id is None
    return Start(message_out(user_message, [assistant.id]) if user_message else None,
                 message_out(assistant, []), first, title)


async def finish(conn: RawConnection, chat_id: str, message_id: str, content: str,
                 model: str | None, extra: dict[str, Any]) -> None:
    """A write job: the assistant's final message, and its turn done."""
    params = {"chat_id": chat_id, "id": message_id}
    await conn.execute("UPDATE messages SET content = :content, model = :model, extra = :extra,"
                       " updated_at = :now WHERE chat_id = :chat_id AND id = :id",
                       {**params, "content": content, "model": model,
                        "extra": encode_json(extra), "now": now()})
    await conn.execute("DELETE FROM turns WHERE chat_id = :chat_id AND message_id = :id", params)


async def interrupt_dead(conn: RawConnection, running: set[tuple[str, str]]) -> int:
    """A write job: the turns of dead processes (this host's, or too old) end as errors; those
    in `running` (this process's) are left alone."""
    oldest = time.time() - STALE_AFTER
    rows = await conn.fetch("SELECT chat_id, message_id, runner, started_at FROM turns")
    dead = [(chat, message) for chat, message, owner, started in rows
            if (chat, message) not in running and (runner_dead(owner) or started < oldest)]
    for chat_id, message_id in dead:
        found = await conn.fetch("SELECT content, model, extra FROM messages"
                                 " WHERE chat_id = :chat_id AND id = :id",
                                 {"chat_id": chat_id, "id": message_id})
        if found:
            content, model, extra = found[0]
            extra = {**(conn.decode_json(extra) or {}), "done": True, "status": "error",
                     "error": {"content": INTERRUPTED}}
            await finish(conn, chat_id, message_id, content, model, extra)
        else:
            await conn.execute("DELETE FROM turns WHERE chat_id = :chat_id"
                               " AND message_id = :id", {"chat_id": chat_id, "id": message_id})
    if dead:
        log.warning("marked %d interrupted chat turns as errors", len(dead))
    return len(dead)


async def read_message(conn: RawConnection, chat_id: str, message_id: str
                       ) -> dict[str, Any] | None:
    found = await conn.fetch(f"{MESSAGE_SELECT} WHERE chat_id = :chat_id AND id = :id",
                             {"chat_id": chat_id, "id": message_id})
    if not found:
        return None
    row = found[0]
    return message_out(MessageIn(row[1], row[2], row[3], row[4], row[5], row[6],
                                 conn.decode_json(row[7])), [])
