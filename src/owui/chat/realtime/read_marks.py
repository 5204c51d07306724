"""A chat's read mark, as the web app's sidebar shows it (`last_read_at`; the marks' meaning
is in crud/reading.py: None reads as "read up to its last change", a time before the chat's
`updated_at` as unread).

Open WebUI's app tells the service when its user has seen a chat: `events:chat {chat_id, data:
{type: 'last_read_at'}}` when a chat's page loads and when the user leaves it for another.
An answer that ends changes the chat; one the user did not see leaves it unread until then.
owui decides that when the answer ends: a page of the chat open on this replica (a socket in
its room) has shown it, so the chat stays read; otherwise it is marked unread, read up to just
before the answer. A page open on another replica marks it read itself, as it loads or leaves.
"""

from __future__ import annotations

from owui.chat.models import now
from owui.chat.rawdb import RawConnection


async def mark_read(conn: RawConnection, chat_id: str, user_id: str) -> bool:
    """A write job: the user has seen the chat; False when it is not theirs."""
    return await conn.execute("UPDATE chats SET last_read_at = NULL WHERE id = :id"
                              " AND user_id = :user_id",
                              {"id": chat_id, "user_id": user_id}) > 0


async def answer_ended(conn: RawConnection, chat_id: str, user_id: str, seen: bool) -> None:
    """A write job: an answer of the chat ended; the chat changed now, and is unread unless
    `seen` (a mark set before, "marked unread" among them, stays as it is)."""
    stamp = now()
    params = {"id": chat_id, "user_id": user_id, "now": stamp, "before": stamp - 1}
    mark = ("NULL" if seen else "CASE WHEN last_read_at IS NULL OR last_read_at >= :before"
            " THEN :before ELSE last_read_at END")
    await conn.execute(f"UPDATE chats SET updated_at = :now, last_read_at = {mark}"
                       " WHERE id = :id AND user_id = :user_id", params)
