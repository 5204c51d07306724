"""Search a user's chats by title and message text with the database's own full-text index.

SQLite: FTS5 (`chats_fts`, `messages_fts`); PostgreSQL: `to_tsvector` GIN indexes (see the
migration). Every word is a prefix (`hel` finds `hello`); all words must match, in the title or
in one message. Open WebUI's filters work too: `tag:NAME`, `pinned:true`, `archived:true`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.crud.tags import tag_id

_WORD = re.compile(r"\w+")
MAX_TERMS = 16
MAX_TERM_CHARS = 64

_SQLITE_MATCH = """(
  c.pk IN (SELECT rowid FROM chats_fts WHERE chats_fts MATCH :query)
  OR c.id IN (SELECT m.chat_id FROM messages m WHERE m.pk IN
              (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :query)))"""
_POSTGRES_MATCH = """(
  to_tsvector('simple', c.title) @@ to_tsquery('simple', :query)
  OR c.id IN (SELECT m.chat_id FROM messages m WHERE
              to_tsvector('simple', left(m.content, 100000)) @@ to_tsquery('simple', :query)))"""


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


def _match_expression(dialect: str, terms: list[str]) -> str:
    if dialect == "postgresql":
        return " & ".join(f"{t}:*" for t in terms)
    return " ".join(f'"{t}"*' for t in terms)


async def search(session: AsyncSession, user_id: str, raw: str, offset: int, limit: int
                 ) -> list[dict[str, Any]]:
    query = parse(raw)
    dialect = session.get_bind().dialect.name
    where = ["c.user_id = :user_id", "c.archived = :archived"]
    params: dict[str, Any] = {"user_id": user_id, "archived": query.archived,
                              "offset": offset, "limit": limit}
    if query.pinned is not None:
        where.append("c.pinned = :pinned")
        params["pinned"] = query.pinned
    if query.tag is not None:
        where.append("c.id IN (SELECT chat_id FROM chat_tags "
                     "WHERE user_id = :user_id AND tag_id = :tag)")
        params["tag"] = query.tag
    if query.terms:
        where.append(_POSTGRES_MATCH if dialect == "postgresql" else _SQLITE_MATCH)
        params["query"] = _match_expression(dialect, query.terms)
    statement = text(
        "SELECT c.id, c.title, c.updated_at, c.created_at FROM chats c WHERE "
        + " AND ".join(where)
        + " ORDER BY c.updated_at DESC, c.pk DESC LIMIT :limit OFFSET :offset")
    return [dict(row._mapping) for row in await session.execute(statement, params)]
