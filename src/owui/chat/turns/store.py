"""A turn's writes, its last stage: its start (the user's message, the assistant's pending one and
the turns row, in one transaction, while the run begins), its end (the assistant's final
message), and the clean-up of turns whose process died (their messages become errors, so that
nothing reads as pending forever)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from owui.chat.errors import ChatNotFound
from owui.chat.models import now
from owui.chat.rawdb import RawConnection, encode_json
from owui.chat.reads import MESSAGE_SELECT
from owui.chat.schemas import MessageResponse
from owui.chat.tree import MessageIn, message_out
from owui.chat.turns.placing import check_place, roles
from owui.chat.writes import INSERT_MESSAGE, message_row
from owui.core.runners import runner, runner_dead

log = logging.getLogger("owui.chat.turns")
# A turn's row older than this is taken for dead whoever runs it (another host's process that
# died); no answer takes that long.
STALE_AFTER = 6 * 3600
OWN_ORPHAN_AFTER = 60
INTERRUPTED = "Interrupted: the chat service stopped while this answer was being written."


async def begin(conn: RawConnection, chat_id: str, user_id: str, new: list[MessageIn]) -> None:
    """A write job: the turn's first write, its messages' parents already set (the user's
    message, if any, then the pending answer). Checked again inside the transaction, the chat
    row locked on PostgreSQL, as the chat may have changed since it was read."""
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    found = await conn.fetch(f"SELECT 1 FROM chats WHERE id = :id AND user_id = :user_id{lock}",
                             {"id": chat_id, "user_id": user_id})
    if not found:
        raise ChatNotFound(chat_id)
    ids = [m.id for m in new] + ([new[0].parent_id] if new[0].parent_id else [])
    check_place(chat_id, new, await roles(conn, chat_id, ids))
    stamp = now()
    assistant = new[-1]
    await conn.executemany(INSERT_MESSAGE, [message_row(chat_id, m, stamp) for m in new])
    await conn.execute("INSERT INTO turns (chat_id, message_id, user_id, runner, started_at)"
                       " VALUES (:chat_id, :message_id, :user_id, :runner, :started_at)",
                       {"chat_id": chat_id, "message_id": assistant.id, "user_id": user_id,
                        "runner": runner(), "started_at": stamp})
    await conn.execute("UPDATE chats SET updated_at = :now, current_message_id = :current"
                       " WHERE id = :id", {"now": stamp, "current": assistant.id, "id": chat_id})


async def finish(conn: RawConnection, chat_id: str, message_id: str, content: str,
                 model: str | None, extra: dict[str, Any]) -> None:
    """A write job: the assistant's final message, and its turn done."""
    params = {"chat_id": chat_id, "id": message_id}
    await conn.execute("UPDATE messages SET content = :content, model = :model, extra = :extra,"
                       " updated_at = :now WHERE chat_id = :chat_id AND id = :id",
                       {**params, "content": content, "model": model,
                        "extra": encode_json(extra), "now": now()})
    await conn.execute("DELETE FROM turns WHERE chat_id = :chat_id AND message_id = :id", params)


async def change_extra(conn: RawConnection, chat_id: str, message_id: str,
                       change: Callable[[dict[str, Any]], None]) -> dict[str, Any] | None:
    """A write job: a stored message's `extra` read, changed in place by `change` (which may
    raise to refuse: nothing is written) and written back; the `extra` written, or None when
    the message is gone."""
    params = {"chat_id": chat_id, "id": message_id}
    rows = await conn.fetch("SELECT extra FROM messages WHERE chat_id = :chat_id AND id = :id",
                            params)
    if not rows:
        return None
    extra = conn.decode_json(rows[0][0]) or {}
    change(extra)
    await conn.execute("UPDATE messages SET extra = :extra WHERE chat_id = :chat_id AND id = :id",
                       {**params, "extra": encode_json(extra)})
    return extra


async def merge_extra(conn: RawConnection, chat_id: str, message_id: str,
                      fields: dict[str, Any]) -> bool:
    """A write job: fields added to a stored message (beside its others, in `extra`); False
    when the message is gone."""
    return await change_extra(conn, chat_id, message_id,
                              lambda extra: extra.update(fields)) is not None


async def interrupt_dead(conn: RawConnection, running: set[tuple[str, str]]) -> int:
    """A write job: the turns of dead processes (this host's, or too old) end as errors, and
    those this process's rows name but it no longer runs; those in `running` are left alone."""
    stamp, me = time.time(), runner()
    rows = await conn.fetch("SELECT chat_id, message_id, runner, started_at FROM turns")
    # Of this process's own, only those older than a minute: a turn is in `running` before its
    # first write, but `running` was read before this job, and a turn may have begun between.
    dead = [(chat, message) for chat, message, owner, started in rows
            if (chat, message) not in running
            and ((owner == me and started < stamp - OWN_ORPHAN_AFTER) or runner_dead(owner)
                 or started < stamp - STALE_AFTER)]
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


async def end_stopped(conn: RawConnection, chat_id: str, message_id: str) -> bool:
    """A write job: a turn stopped that no live replica runs (stops.py) ends as stopped, with
    what was stored of it; False when it had ended already (its row gone)."""
    params = {"chat_id": chat_id, "id": message_id}
    lock = " FOR UPDATE" if conn.dialect == "postgresql" else ""
    if not await conn.fetch("SELECT 1 FROM turns WHERE chat_id = :chat_id AND message_id = :id"
                            f"{lock}", params):
        return False
    found = await conn.fetch("SELECT content, model, extra FROM messages"
                             " WHERE chat_id = :chat_id AND id = :id", params)
    if not found:
        await conn.execute("DELETE FROM turns WHERE chat_id = :chat_id AND message_id = :id",
                           params)
        return True
    content, model, extra = found[0]
    extra = {**(conn.decode_json(extra) or {}), "done": True, "status": "stopped"}
    await finish(conn, chat_id, message_id, content, model, extra)
    return True


async def read_message(conn: RawConnection, chat_id: str, message_id: str
                       ) -> MessageResponse | None:
    found = await conn.fetch(f"{MESSAGE_SELECT} WHERE chat_id = :chat_id AND id = :id",
                             {"chat_id": chat_id, "id": message_id})
    if not found:
        return None
    row = found[0]
    return message_out(MessageIn(row[1], row[2], row[3], row[4], row[5], row[6],
                                 conn.decode_json(row[7])), [])
