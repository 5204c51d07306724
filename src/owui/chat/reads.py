"""Reading chats on the driver (see rawdb.py): lists, whole chats, branches, shares, tags.

Every query takes the owner's id, except the admin routes' (`user_id` None there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from owui.chat.errors import ChatNotFound, FolderNotFound, ShareNotFound
from owui.chat.rawdb import RawConnection, RawPool
from owui.chat.schemas import ChatResponse, ChatTitleIdResponse, MessageResponse, TagModel
from owui.chat.tree import MessageIn, chat_object, children_of, message_out
from owui.chat.views import chat_response, tag_models, title_ids

CHAT_SELECT = (
    "SELECT c.pk, c.id, c.user_id, c.title, c.data, c.current_message_id, c.meta, c.variables,"
    " c.folder_id, c.archived, c.pinned, c.created_at, c.updated_at, s.id"
    " FROM chats c LEFT JOIN shares s ON s.chat_id = c.id")
MESSAGE_SELECT = ("SELECT chat_id, id, parent_id, role, content, model, timestamp, extra"
                  " FROM messages")
# Deeper than any chat the limits let in: a guard should stored rows ever hold a cycle.
MAX_DEPTH = 100_000
BRANCH = """
WITH RECURSIVE up(pk, parent_id, depth) AS (
  SELECT pk, parent_id, 0 FROM messages WHERE chat_id = :chat_id AND id = :leaf
  UNION ALL
  SELECT m.pk, m.parent_id, up.depth + 1 FROM messages m JOIN up
    ON m.chat_id = :chat_id AND m.id = up.parent_id WHERE up.depth < :max_depth
)
SELECT up.depth, m.chat_id, m.id, m.parent_id, m.role, m.content, m.model, m.timestamp,
       m.extra, child.id
FROM up JOIN messages m ON m.pk = up.pk
LEFT JOIN messages child ON child.chat_id = :chat_id AND child.parent_id = m.id
ORDER BY up.depth DESC, child.pk"""
SORT_COLUMNS = {"updated_at": "c.updated_at", "created_at": "c.created_at", "title": "c.title"}
_BATCH = 500


@dataclass(slots=True)
class ChatRow:
    pk: int
    id: str
    user_id: str
    title: str
    data: dict[str, Any]
    current_message_id: str | None
    meta: dict[str, Any]
    variables: dict[str, Any] | None
    folder_id: str | None
    archived: bool
    pinned: bool
    created_at: int
    updated_at: int
    share_id: str | None


@dataclass(slots=True)
class MessageRow(MessageIn):
    chat_id: str


def _chat(conn: RawConnection, row: Sequence[Any]) -> ChatRow:
    decode = conn.decode_json
    return ChatRow(row[0], row[1], row[2], row[3], decode(row[4]) or {}, row[5],
                   decode(row[6]) or {}, decode(row[7]), row[8], bool(row[9]), bool(row[10]),
                   row[11], row[12], row[13])


def _message(conn: RawConnection, row: Sequence[Any]) -> MessageRow:
    return MessageRow(row[1], row[2], row[3], row[4], row[5], row[6],
                      conn.decode_json(row[7]), row[0])


async def chats_where(conn: RawConnection, where: str, params: dict[str, Any], *,
                      order: str = "c.pk", limit: int | None = None) -> list[ChatRow]:
    sql = f"{CHAT_SELECT} WHERE {where} ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT :limit"
        params = {**params, "limit": limit}
    return [_chat(conn, row) for row in await conn.fetch(sql, params)]


async def find_chat(conn: RawConnection, chat_id: str, user_id: str | None) -> ChatRow | None:
    where, params = "c.id = :id", {"id": chat_id}
    if user_id is not None:
        where, params = where + " AND c.user_id = :user_id", {**params, "user_id": user_id}
    rows = await chats_where(conn, where, params)
    return rows[0] if rows else None


async def require_chat(conn: RawConnection, chat_id: str, user_id: str | None) -> ChatRow:
    row = await find_chat(conn, chat_id, user_id)
    if row is None:
        raise ChatNotFound(chat_id)
    return row


async def messages_of(conn: RawConnection, chat_ids: Sequence[str], cut: int | None = None
                      ) -> list[MessageRow]:
    """Messages of the chats, in insertion order (which is sibling order)."""
    rows: list[MessageRow] = []
    for start in range(0, len(chat_ids), _BATCH):
        params: dict[str, Any] = {}
        where = "chat_id " + conn.in_list("chat_ids", chat_ids[start:start + _BATCH], params)
        if cut is not None:
            where += " AND pk <= :cut"
            params["cut"] = cut
        found = await conn.fetch(f"{MESSAGE_SELECT} WHERE {where} ORDER BY pk", params)
        rows += [_message(conn, row) for row in found]
    return rows


async def tags_of(conn: RawConnection, chat_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for start in range(0, len(chat_ids), _BATCH):
        params: dict[str, Any] = {}
        where = conn.in_list("chat_ids", chat_ids[start:start + _BATCH], params)
        for chat_id, tag in await conn.fetch(
                f"SELECT chat_id, tag_id FROM chat_tags WHERE chat_id {where}"
                " ORDER BY chat_id, tag_id", params):
            found.setdefault(chat_id, []).append(tag)
    return found


async def full_chats(conn: RawConnection, rows: Sequence[ChatRow], cut: int | None = None
                     ) -> list[ChatResponse]:
    """Open WebUI's ChatResponse of each row: two more queries, whatever the number of rows."""
    ids = [row.id for row in rows]
    by_chat: dict[str, list[MessageRow]] = {chat_id: [] for chat_id in ids}
    for message in await messages_of(conn, ids, cut):
        by_chat[message.chat_id].append(message)
    tags = await tags_of(conn, ids) if ids else {}
    return [chat_response(row, chat_object(row.title, row.data, by_chat[row.id],
                                           row.current_message_id),
                          tags.get(row.id, []), row.share_id)
            for row in rows]


async def read_chat(conn: RawConnection, chat_id: str, user_id: str | None) -> ChatResponse:
    return (await full_chats(conn, [await require_chat(conn, chat_id, user_id)]))[0]


async def all_messages(conn: RawConnection, chat_id: str) -> list[MessageResponse]:
    rows = await messages_of(conn, [chat_id])
    children = children_of(rows)
    return [message_out(row, children.get(row.id, [])) for row in rows]


async def branch(conn: RawConnection, chat_id: str, leaf: str | None) -> list[MessageResponse]:
    """Root to `leaf`, each message with its children, in one query (a recursive CTE)."""
    if leaf is None:
        return []
    path: list[MessageResponse] = []
    depth = None
    for row in await conn.fetch(BRANCH, {"chat_id": chat_id, "leaf": leaf,
                                         "max_depth": MAX_DEPTH}):
        if row[0] != depth:
            depth = row[0]
            path.append(message_out(_message(conn, row[1:9]), []))
        if row[9] is not None:
            path[-1]["childrenIds"].append(row[9])
    return path


async def list_titles(conn: RawConnection, user_id: str, *, archived: bool | None = False,
                      pinned: bool | None = None, in_folders: bool = True,
                      conditions: Sequence[str] = (), params: dict[str, Any] | None = None,
                      sort_by: str = "updated_at", sort_dir: str = "desc", offset: int = 0,
                      limit: int | None = None) -> list[ChatTitleIdResponse]:
    """Open WebUI's ChatTitleIdResponse items, newest first unless asked otherwise.

    `conditions` are SQL over `c` (the chats row) whose parameters are in `params`."""
    # A note's hidden chats (routes/notes.py) are in no list.
    where = ["c.user_id = :user_id", "c.note_id IS NULL", *conditions]
    values: dict[str, Any] = {**(params or {}), "user_id": user_id, "offset": offset}
    # Without a limit, everything from the first: `offset` applies to pages only.
    if archived is not None:
        where.append("c.archived = :archived")
        values["archived"] = archived
    if pinned is not None:
        where.append("c.pinned = :pinned")
        values["pinned"] = pinned
    if not in_folders:
        where.append("c.folder_id IS NULL")
    direction = "ASC" if sort_dir == "asc" else "DESC"
    sql = ("SELECT c.id, c.title, c.updated_at, c.created_at, c.archived,"
           " EXISTS (SELECT 1 FROM turns t WHERE t.chat_id = c.id), c.last_read_at FROM chats c"
           f" WHERE {' AND '.join(where)}"
           f" ORDER BY {SORT_COLUMNS.get(sort_by, 'c.updated_at')} {direction}, c.pk {direction}")
    if limit is not None:
        sql += " LIMIT :limit OFFSET :offset"
        values["limit"] = limit
    return title_ids(await conn.fetch(sql, values))


async def read_share(conn: RawConnection, share_id: str) -> ChatResponse:
    """The shared chat as it stood when shared; a ChatResponse whose id is the share id."""
    found = await conn.fetch("SELECT chat_id, title, current_message_id, message_cut"
                             " FROM shares WHERE id = :id", {"id": share_id})
    if not found:
        raise ShareNotFound(share_id)
    chat_id, title, current, cut = found[0]
    row = await require_chat(conn, chat_id, None)
    row.id, row.title, row.share_id = share_id, title, share_id
    # How the owner files the chat (folder, pin, archive) is theirs, not the link's.
    row.folder_id, row.pinned, row.archived = None, False, False
    messages = await messages_of(conn, [chat_id], cut)
    row.current_message_id = current if any(m.id == current for m in messages) else None
    tags = await tags_of(conn, [chat_id])
    body = chat_object(title, row.data, messages, row.current_message_id)
    return chat_response(row, body, tags.get(chat_id, []), share_id)


async def batches(pool: RawPool, where: str, params: dict[str, Any], size: int = 100
                  ) -> AsyncIterator[list[ChatResponse]]:
    """ChatResponses of the chats matching `where`, oldest first, `size` at a time; each batch
    on a connection taken for it alone, so a slow reader holds none."""
    after = 0
    while True:
        async with pool.acquire() as conn:
            rows = await chats_where(conn, f"c.pk > :after AND ({where})",
                                     {**params, "after": after}, limit=size)
            if not rows:
                return
            chats = await full_chats(conn, rows)
        yield chats
        after = rows[-1].pk


async def user_tags(conn: RawConnection, user_id: str, chat_id: str | None = None
                    ) -> list[TagModel]:
    """Open WebUI's TagModel items: all of the user's, or those of one chat."""
    sql = "SELECT t.id, t.name, t.meta FROM tags t"
    params: dict[str, Any] = {"user_id": user_id}
    if chat_id is not None:
        sql += (" JOIN chat_tags ct ON ct.user_id = t.user_id AND ct.tag_id = t.id"
                " AND ct.chat_id = :chat_id")
        params["chat_id"] = chat_id
    rows = await conn.fetch(sql + " WHERE t.user_id = :user_id ORDER BY t.id", params)
    return tag_models(rows, user_id, conn.decode_json)


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern whose ESCAPE is a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def title_contains(text: str, params: dict[str, Any]) -> str:
    """A condition for `list_titles`: the title holds `text`, in any case."""
    params["title_like"] = f"%{escape_like(text.lower())}%"
    return "lower(c.title) LIKE :title_like ESCAPE '\\'"


async def require_folder(conn: RawConnection, folder_id: str, user_id: str) -> None:
    found = await conn.fetch("SELECT 1 FROM folders WHERE id = :id AND user_id = :user_id",
                             {"id": folder_id, "user_id": user_id})
    if not found:
        raise FolderNotFound(folder_id)
