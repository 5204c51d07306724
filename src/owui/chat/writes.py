"""Writing on the driver (see rawdb.py): new chats (create, import, clone), appended messages,
and tags. Statements run inside a write job (`conn.write(job)`), which commits them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from owui.chat.errors import ChatNotFound, MessageTaken, NotInTree
from owui.chat.models import new_id, now
from owui.chat.rawdb import RawConnection, encode_json
from owui.chat.reads import ChatRow
from owui.chat.schemas import ChatResponse, MessageResponse
from owui.chat.tree import ChatIn, MessageIn, chat_object, message_out
from owui.chat.views import chat_response

DEFAULT_TITLE = "New Chat"
INSERT_CHAT = (
    "INSERT INTO chats (id, user_id, title, data, current_message_id, meta, variables,"
    " folder_id, archived, pinned, created_at, updated_at) VALUES (:id, :user_id, :title,"
    " :data, :current_message_id, :meta, :variables, :folder_id, :archived, :pinned,"
    " :created_at, :updated_at)")
INSERT_MESSAGE = (
    "INSERT INTO messages (chat_id, id, parent_id, role, content, model, timestamp, extra,"
    " created_at, updated_at) VALUES (:chat_id, :id, :parent_id, :role, :content, :model,"
    " :timestamp, :extra, :created_at, :updated_at)")
INSERT_TAG = ("INSERT INTO tags (user_id, id, name, meta, created_at)"
              " VALUES (:user_id, :id, :name, NULL, :created_at) ON CONFLICT DO NOTHING")
LINK_TAG = ("INSERT INTO chat_tags (chat_id, tag_id, user_id)"
            " VALUES (:chat_id, :tag_id, :user_id) ON CONFLICT DO NOTHING")


@dataclass
class NewChat:
    """A chat about to be inserted, and what the client gets back for it."""

    row: ChatRow
    messages: list[MessageIn]
    tags: dict[str, str] = field(default_factory=dict)  # tag id -> name; listed sorted

    def response(self) -> ChatResponse:
        body = chat_object(self.row.title, self.row.data, self.messages,
                           self.row.current_message_id)
        return chat_response(self.row, body, sorted(self.tags), None)


def new_chat(user_id: str, chat: ChatIn, *, folder_id: str | None = None,
             variables: dict[str, Any] | None = None, meta: dict[str, Any] | None = None,
             pinned: bool = False, archived: bool = False, created_at: int | None = None,
             updated_at: int | None = None, tags: dict[str, str] | None = None) -> NewChat:
    stamp = now()
    created = created_at or stamp
    row = ChatRow(0, new_id(), user_id, chat.title if chat.title is not None else DEFAULT_TITLE,
                  chat.data, chat.current_id,
                  {k: v for k, v in (meta or {}).items() if k != "tags"}, variables, folder_id,
                  archived, pinned, created, updated_at or created, None)
    return NewChat(row, chat.messages or [], tags or {})


def message_row(chat_id: str, message: MessageIn, stamp: int) -> dict[str, Any]:
    return {"chat_id": chat_id, "id": message.id, "parent_id": message.parent_id,
            "role": message.role, "content": message.content, "model": message.model,
            "timestamp": message.timestamp, "extra": encode_json(message.extra),
            "created_at": stamp, "updated_at": stamp}


async def insert_chats(conn: RawConnection, chats: Sequence[NewChat]) -> None:
    """One statement per table, whatever the number of chats."""
    stamp = now()
    await conn.executemany(INSERT_CHAT, [
        {"id": c.row.id, "user_id": c.row.user_id, "title": c.row.title,
         "data": encode_json(c.row.data), "current_message_id": c.row.current_message_id,
         "meta": encode_json(c.row.meta), "variables": encode_json(c.row.variables),
         "folder_id": c.row.folder_id, "archived": c.row.archived, "pinned": c.row.pinned,
         "created_at": c.row.created_at, "updated_at": c.row.updated_at} for c in chats])
    await conn.executemany(INSERT_MESSAGE, [message_row(c.row.id, m, stamp)
                                            for c in chats for m in c.messages])
    tags = {(c.row.user_id, tag): name for c in chats for tag, name in c.tags.items()}
    await add_tags(conn, tags, [(c.row.id, tag, c.row.user_id) for c in chats for tag in c.tags])


async def add_tags(conn: RawConnection, tags: Mapping[tuple[str, str], str],
                   links: Sequence[tuple[str, str, str]]) -> None:
    """Create the (user, tag id) -> name tags that are new, and link (chat, tag, user)."""
    stamp = now()
    await conn.executemany(INSERT_TAG, [{"user_id": user, "id": tag, "name": name,
                                         "created_at": stamp}
                                        for (user, tag), name in tags.items()])
    await conn.executemany(LINK_TAG, [{"chat_id": chat, "tag_id": tag, "user_id": user}
                                      for chat, tag, user in links])


async def drop_unused_tags(conn: RawConnection, user_id: str) -> None:
    await conn.execute("DELETE FROM tags WHERE user_id = :user_id AND NOT EXISTS ("
                       "SELECT 1 FROM chat_tags ct WHERE ct.user_id = :user_id"
                       " AND ct.tag_id = tags.id)", {"user_id": user_id})


async def touch(conn: RawConnection, chat_id: str) -> None:
    await conn.execute("UPDATE chats SET updated_at = :now WHERE id = :id",
                       {"now": now(), "id": chat_id})


async def append(conn: RawConnection, chat_id: str, user_id: str, message: MessageIn, *,
                 parent_given: bool, make_current: bool) -> MessageResponse:
    """One new row, and the chat's updated_at and current id: the chat is not rewritten.
    A write job: its checks read inside the transaction that writes."""
    found = await conn.fetch(
        "SELECT c.current_message_id,"
        " (SELECT 1 FROM messages WHERE chat_id = :chat_id AND id = :id),"
        " (SELECT 1 FROM messages WHERE chat_id = :chat_id AND id = :parent_id)"
        " FROM chats c WHERE c.id = :chat_id AND c.user_id = :user_id",
        {"chat_id": chat_id, "user_id": user_id, "id": message.id,
         "parent_id": message.parent_id})
    if not found:
        raise ChatNotFound(chat_id)
    current, taken, parent = found[0]
    if taken is not None:
        raise MessageTaken(chat_id, message.id)
    if not parent_given:
        message.parent_id = current
    elif message.parent_id is not None and parent is None:
        raise NotInTree(f"parentId {message.parent_id!r} is not a message of chat {chat_id!r}.")
    stamp = now()
    await conn.execute(INSERT_MESSAGE, message_row(chat_id, message, stamp))
    if make_current:
        await conn.execute("UPDATE chats SET updated_at = :now, current_message_id = :current"
                           " WHERE id = :id", {"now": stamp, "current": message.id,
                                               "id": chat_id})
    else:
        await touch(conn, chat_id)
    return message_out(message, [])
