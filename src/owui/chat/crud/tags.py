"""Tags: a user's own names, linked to chats; a tag no chat uses any more is dropped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, and_, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.models import ChatTag, Tag, now


def tag_id(name: str) -> str:
    """Open WebUI's tag id: the name in lower case, spaces as underscores."""
    return name.strip().replace(" ", "_").lower()


async def _insert_ignoring_existing(session: AsyncSession, table: Any,
                                    rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


async def ensure(session: AsyncSession, user_id: str, tags: Mapping[str, str]) -> None:
    """Create the user's tags (id -> name) that do not exist yet."""
    stamp = now()
    await _insert_ignoring_existing(session, Tag.__table__, [
        {"user_id": user_id, "id": t, "name": name, "meta": None, "created_at": stamp}
        for t, name in tags.items()])


async def link(session: AsyncSession, links: list[dict[str, str]]) -> None:
    await _insert_ignoring_existing(session, ChatTag.__table__, links)


async def unlink(session: AsyncSession, chat_id: str, tag_ids: Sequence[str] | None) -> None:
    statement = delete(ChatTag).where(ChatTag.chat_id == chat_id)
    if tag_ids is not None:
        statement = statement.where(ChatTag.tag_id.in_(tag_ids))
    await session.execute(statement)


async def drop_unused(session: AsyncSession, user_id: str) -> None:
    used = exists().where(ChatTag.user_id == user_id, ChatTag.tag_id == Tag.id)
    await session.execute(delete(Tag).where(Tag.user_id == user_id, ~used))


async def chat_tag_ids(session: AsyncSession, chat_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for start in range(0, len(chat_ids), 500):
        rows = await session.execute(
            select(ChatTag.chat_id, ChatTag.tag_id)
            .where(ChatTag.chat_id.in_(chat_ids[start:start + 500]))
            .order_by(ChatTag.chat_id, ChatTag.tag_id))
        for chat_id, tag in rows:
            found.setdefault(chat_id, []).append(tag)
    return found


async def of_chat(session: AsyncSession, chat_id: str, user_id: str) -> list[Row]:
    statement = (select(Tag.id, Tag.name, Tag.meta)
                 .join(ChatTag, and_(ChatTag.user_id == Tag.user_id, ChatTag.tag_id == Tag.id))
                 .where(ChatTag.chat_id == chat_id, Tag.user_id == user_id).order_by(Tag.id))
    return list(await session.execute(statement))


async def of_user(session: AsyncSession, user_id: str) -> list[Row]:
    statement = select(Tag.id, Tag.name, Tag.meta).where(Tag.user_id == user_id)
    return list(await session.execute(statement.order_by(Tag.id)))

