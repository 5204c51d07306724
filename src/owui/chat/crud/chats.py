"""Chats: read, create, list, flags, update, delete; every query scoped to its owner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.crud import messages as message_rows
from owui.chat.crud import tags as tag_rows
from owui.chat.models import Chat, Message, Share, new_id, now
from owui.chat.tree import ChatIn, MessageIn, chat_object
from owui.chat.views import chat_response

CHAT_COLUMNS = (Chat.pk, Chat.id, Chat.user_id, Chat.title, Chat.data, Chat.current_message_id,
                Chat.meta, Chat.variables, Chat.folder_id, Chat.archived, Chat.pinned,
                Chat.created_at, Chat.updated_at)
TITLE_COLUMNS = (Chat.id, Chat.title, Chat.updated_at, Chat.created_at)
DEFAULT_TITLE = "New Chat"


def not_found(chat_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"No chat {chat_id!r}.")


async def find_chat(session: AsyncSession, chat_id: str, user_id: str | None) -> Row | None:
    """The chat's row and its share id; `user_id` None only on the admin routes."""
    statement = (select(*CHAT_COLUMNS, Share.id.label("share_id"))
                 .outerjoin(Share, Share.chat_id == Chat.id).where(Chat.id == chat_id))
    if user_id is not None:
        statement = statement.where(Chat.user_id == user_id)
    return (await session.execute(statement)).first()


async def require_chat(session: AsyncSession, chat_id: str, user_id: str | None) -> Row:
    row = await find_chat(session, chat_id, user_id)
    if row is None:
        raise not_found(chat_id)
    return row


async def full_chat(session: AsyncSession, row: Row) -> dict[str, Any]:
    """ChatResponse of a row: its messages and tags, two indexed queries."""
    messages = await message_rows.load(session, [row.id])
    tags = await tag_rows.chat_tag_ids(session, [row.id])
    body = chat_object(row.title, row.data, messages, row.current_message_id)
    return chat_response(row._mapping, body, tags.get(row.id, []), row.share_id)


async def read_chat(session: AsyncSession, chat_id: str, user_id: str | None) -> dict[str, Any]:
    return await full_chat(session, await require_chat(session, chat_id, user_id))


async def full_chats(session: AsyncSession, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """ChatResponses of many rows with three queries, whatever their number."""
    ids = [row.id for row in rows]
    by_chat: dict[str, list[Row]] = {chat_id: [] for chat_id in ids}
    for message in await message_rows.load(session, ids):
        by_chat[message.chat_id].append(message)
    tags = await tag_rows.chat_tag_ids(session, ids)
    return [chat_response(row._mapping,
                          chat_object(row.title, row.data, by_chat[row.id],
                                      row.current_message_id),
                          tags.get(row.id, []), row.share_id)
            for row in rows]


# Create


@dataclass
class NewChat:
    """A chat about to be inserted, and what the client gets back for it."""

    values: dict[str, Any]
    messages: list[MessageIn]
    tags: dict[str, str] = field(default_factory=dict)  # tag id -> name

    def response(self) -> dict[str, Any]:
        body = chat_object(self.values["title"], self.values["data"], self.messages,
                           self.values["current_message_id"])
        return chat_response(self.values, body, list(self.tags), None)


def new_chat(user_id: str, chat: ChatIn, *, folder_id: str | None = None,
             variables: dict[str, Any] | None = None, meta: dict[str, Any] | None = None,
             pinned: bool = False, archived: bool = False, created_at: int | None = None,
             updated_at: int | None = None, tags: dict[str, str] | None = None) -> NewChat:
    stamp = now()
    values = {"id": new_id(), "user_id": user_id,
              "title": chat.title if chat.title is not None else DEFAULT_TITLE,
              "data": chat.data, "current_message_id": chat.current_id,
              "meta": {k: v for k, v in (meta or {}).items() if k != "tags"},
              "variables": variables, "folder_id": folder_id, "archived": archived,
              "pinned": pinned, "created_at": created_at or stamp,
              "updated_at": updated_at or created_at or stamp}
    return NewChat(values, chat.messages or [], tags or {})


async def insert_chats(session: AsyncSession, chats: Sequence[NewChat]) -> None:
    """Insert in bulk (one statement per table); the caller commits."""
    if not chats:
        return
    await session.execute(Chat.__table__.insert(), [c.values for c in chats])
    stamp = now()
    rows = [{**m.columns(), "chat_id": c.values["id"], "created_at": stamp, "updated_at": stamp}
            for c in chats for m in c.messages]
    await message_rows.insert(session, rows)
    by_user: dict[str, dict[str, str]] = {}
    links = []
    for chat in chats:
        by_user.setdefault(chat.values["user_id"], {}).update(chat.tags)
        links += [{"chat_id": chat.values["id"], "tag_id": t, "user_id": chat.values["user_id"]}
                  for t in chat.tags]
    for user_id, tags in by_user.items():
        await tag_rows.ensure(session, user_id, tags)
    await tag_rows.link(session, links)


# Lists


async def list_titles(session: AsyncSession, user_id: str, *conditions: Any,
                      archived: bool | None = False, pinned: bool | None = None,
                      in_folders: bool = True, title_like: str | None = None,
                      sort_by: str = "updated_at", sort_dir: str = "desc", offset: int = 0,
                      limit: int | None = None) -> list[dict[str, Any]]:
    """Open WebUI's ChatTitleIdResponse items of a user's chats matching the filters."""
    statement = select(*TITLE_COLUMNS).where(Chat.user_id == user_id, *conditions)
    if archived is not None:
        statement = statement.where(Chat.archived == archived)
    if pinned is not None:
        statement = statement.where(Chat.pinned == pinned)
    if not in_folders:
        statement = statement.where(Chat.folder_id.is_(None))
    if title_like:
        statement = statement.where(func.lower(Chat.title).contains(title_like.lower(),
                                                                    autoescape=True))
    column = {"title": Chat.title, "created_at": Chat.created_at}.get(sort_by, Chat.updated_at)
    order = (column.asc(), Chat.pk.asc()) if sort_dir == "asc" else (column.desc(),
                                                                     Chat.pk.desc())
    statement = statement.order_by(*order).offset(offset).limit(limit)
    return [dict(row._mapping) for row in await session.execute(statement)]


async def rows_where(session: AsyncSession, *conditions: Any, after_pk: int = 0,
                     limit: int | None = None) -> list[Row]:
    """Chat rows (with share ids) in insertion order, for exports and folder reads."""
    statement = (select(*CHAT_COLUMNS, Share.id.label("share_id"))
                 .outerjoin(Share, Share.chat_id == Chat.id)
                 .where(Chat.pk > after_pk, *conditions).order_by(Chat.pk).limit(limit))
    return list(await session.execute(statement))


async def count(session: AsyncSession, user_id: str, *, archived: bool) -> int:
    statement = select(func.count()).where(Chat.user_id == user_id, Chat.archived == archived)
    return int(await session.scalar(statement) or 0)


# Changes


async def set_fields(session: AsyncSession, chat_id: str, user_id: str,
                     **values: Any) -> None:
    """Update columns of one chat (an expression may refer to the old value); 404 if none."""
    result = await session.execute(update(Chat).where(Chat.id == chat_id, Chat.user_id == user_id)
                                   .values(**values))
    if result.rowcount == 0:
        raise not_found(chat_id)


async def set_all(session: AsyncSession, user_id: str, **values: Any) -> None:
    await session.execute(update(Chat).where(Chat.user_id == user_id).values(**values))


async def apply_update(session: AsyncSession, row: Row, chat: ChatIn, *,
                       variables: dict[str, Any] | None, folder_id: str | None) -> None:
    """Open WebUI's update: fields sent replace stored ones; messages are diffed, not rewritten."""
    values: dict[str, Any] = {"updated_at": now()}
    if chat.title is not None:
        values["title"] = chat.title
    if chat.data:
        values["data"] = {**row.data, **chat.data}
    if chat.messages is not None:
        await message_rows.sync(session, row.id, chat.messages)
        values["current_message_id"] = chat.current_id
    if variables is not None:
        values["variables"] = variables
    if folder_id is not None:
        values["folder_id"] = folder_id
    await session.execute(update(Chat).where(Chat.id == row.id).values(**values))


async def delete_chats(session: AsyncSession, user_id: str, chat_ids: Sequence[str] | None
                       ) -> int:
    """Delete some (or, with None, all) of a user's chats; their messages go with them."""
    statement = delete(Chat).where(Chat.user_id == user_id)
    if chat_ids is not None:
        statement = statement.where(Chat.id.in_(chat_ids))
    result = await session.execute(statement)
    await tag_rows.drop_unused(session, user_id)
    return int(result.rowcount or 0)


async def touch(session: AsyncSession, chat_id: str) -> None:
    await session.execute(update(Chat).where(Chat.id == chat_id).values(updated_at=now()))


async def message_count(session: AsyncSession, chat_id: str) -> int:
    return int(await session.scalar(select(func.count()).where(Message.chat_id == chat_id)) or 0)
