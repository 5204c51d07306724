"""Search a user's chats by title and message text with the database's own full-text index.

SQLite: FTS5 (`chats_fts`, `messages_fts`); new messages are indexed in batches by the
service's writer (`index_messages`), and the few past `search_progress.indexed_to` are read
directly, so a message is found as soon as it is stored. PostgreSQL: `to_tsvector` GIN indexes
(see the migrations).

Every word is a prefix (`hel` finds `hello`); each must be in the chat, in its title or in any
of its messages. Open WebUI's filters work too: `tag:NAME`, `pinned:true`, `archived:true`.
Results are newest first, as Open WebUI lists them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from owui.chat.crud.tags import tag_id
from owui.chat.rawdb import RawConnection
from owui.chat.reads import escape_like, list_titles
from owui.chat.schemas import ChatTitleIdResponse

_WORD = re.compile(r"\w+")
MAX_TERMS = 16
INDEX_BATCH = 10_000
MAX_TERM_CHARS = 64

_SQLITE_MATCH = """(
  c.pk IN (SELECT rowid FROM chats_fts WHERE chats_fts MATCH :term)
  OR c.id IN (SELECT m.chat_id FROM messages m WHERE m.pk IN
              (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :term))
  OR c.id IN (SELECT m.chat_id FROM messages m WHERE m.pk >
              (SELECT indexed_to FROM search_progress WHERE name = 'messages')
              AND lower(m.content) LIKE :term_like ESCAPE '\\'))"""
_POSTGRES_MATCH = """(
  to_tsvector('simple', c.title) @@ to_tsquery('simple', :term)
  OR c.id IN (SELECT m.chat_id FROM messages m WHERE
              to_tsvector('simple', left(m.content, 100000)) @@ to_tsquery('simple', :term)))"""
_TAGGED = ("c.id IN (SELECT chat_id FROM chat_tags"
           " WHERE user_id = :user_id AND tag_id = :tag)")


@dataclass
class Query:
    terms: list[str] = field(default_factory=list)
    tag: str | None = None
    pinned: bool | None = None
    archived: bool = False


def parse(raw: str) -> Query:
    query = Query()
    words = []
    for word in raw.split():
        key, _, value = word.partition(":")
        key = key.lower()
        if value and key == "tag":
            query.tag = tag_id(value)
        elif value and key in ("pinned", "archived"):
            setattr(query, key, value.lower() == "true")
        else:
            words.append(word)
    terms = _WORD.findall(" ".join(words).lower())
    query.terms = [t[:MAX_TERM_CHARS] for t in dict.fromkeys(terms)][:MAX_TERMS]
    return query


def _prefix(dialect: str, term: str) -> str:
    """A word prefix in the engine's query syntax; `term` is word characters only."""
    return f"{term}:*" if dialect == "postgresql" else f'"{term}"*'


async def search(conn: RawConnection, user_id: str, raw: str, offset: int, limit: int,
                 folder_ids: Sequence[str] | None = None) -> list[ChatTitleIdResponse]:
    """`folder_ids`: only chats in these folders (the web app's search scope)."""
    query = parse(raw)
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if folder_ids is not None:
        conditions.append("c.folder_id " + conn.in_list("scope", list(folder_ids) or [""],
                                                         params))
    if query.tag is not None:
        conditions.append(_TAGGED)
        params["tag"] = query.tag
    match = _POSTGRES_MATCH if conn.dialect == "postgresql" else _SQLITE_MATCH
    for number, term in enumerate(query.terms):
        conditions.append(match.replace(":term", f":term{number}"))
        params[f"term{number}"] = _prefix(conn.dialect, term)
        params[f"term{number}_like"] = f"%{escape_like(term)}%"
    return await list_titles(conn, user_id, archived=query.archived, pinned=query.pinned,
                             conditions=conditions, params=params, offset=offset, limit=limit)


async def index_messages(conn: RawConnection, limit: int | None = INDEX_BATCH) -> None:
    """SQLite writer housekeeping: add the messages stored since the last pass to the index
    (at most `limit`), in one statement (FTS5 fed row by row costs several times more)."""
    found = await conn.fetch("SELECT p.indexed_to, (SELECT max(pk) FROM messages)"
                             " FROM search_progress p WHERE p.name = 'messages'")
    if not found or found[0][1] is None or found[0][1] <= found[0][0]:
        return
    mark, top = found[0]
    upto = top if limit is None else min(top, mark + limit)
    await conn.execute("INSERT INTO messages_fts(rowid, content) SELECT pk, content"
                       " FROM messages WHERE pk > :mark AND pk <= :upto",
                       {"mark": mark, "upto": upto})
    await conn.execute("UPDATE search_progress SET indexed_to = :upto WHERE name = 'messages'",
                       {"upto": upto})
