"""Message changes through SQLAlchemy: diff a whole history, edit one, delete a branch.

(Appending one and reading are hot paths: see writes.py and reads.py.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.errors import MessageNotFound
from owui.chat.models import Message, now
from owui.chat.tree import MessageIn

MESSAGE_COLUMNS = (Message.id, Message.parent_id, Message.role, Message.content, Message.model,
                   Message.timestamp, Message.extra)
_FIELDS = ("parent_id", "role", "content", "model", "timestamp", "extra")
_CHUNK = 500


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(Message.__table__.insert(), rows)


async def sync(session: AsyncSession, chat_id: str, messages: Sequence[MessageIn]) -> None:
    """Make the stored rows equal `messages`: insert new, update changed, delete removed."""
    stored = {row.id: row for row in await session.execute(
        select(Message.pk, *MESSAGE_COLUMNS).where(Message.chat_id == chat_id))}
    wanted = {message.id for message in messages}
    stamp = now()
    removed = [message_id for message_id in stored if message_id not in wanted]
    changed = [{"pk": stored[m.id].pk, **m.columns(), "updated_at": stamp} for m in messages
               if m.id in stored and any(getattr(stored[m.id], f) != getattr(m, f)
                                         for f in _FIELDS)]
    added = [{**m.columns(), "chat_id": chat_id, "created_at": stamp, "updated_at": stamp}
             for m in messages if m.id not in stored]
    for chunk in _chunks(removed):
        await session.execute(delete(Message).where(Message.chat_id == chat_id,
                                                    Message.id.in_(chunk)))
    if changed:
        await session.execute(update(Message), changed)
    await _insert(session, added)


async def set_content(session: AsyncSession, chat_id: str, message_id: str, content: str
                      ) -> None:
    result = await session.execute(
        update(Message).where(Message.chat_id == chat_id, Message.id == message_id)
        .values(content=content, updated_at=now()))
    if result.rowcount == 0:
        raise MessageNotFound(chat_id, message_id)


async def delete_branch(session: AsyncSession, chat_id: str, message_id: str
                        ) -> tuple[str | None, set[str]]:
    """Delete a message and everything below it; returns its parent and the ids deleted."""
    table = Message.__table__
    parent_id = (select(table.c.parent_id).where(table.c.chat_id == chat_id,
                                                 table.c.id == message_id))
    found = (await session.execute(parent_id)).first()
    if found is None:
        raise MessageNotFound(chat_id, message_id)
    down = (select(table.c.id).where(table.c.chat_id == chat_id, table.c.id == message_id)
            .cte("down", recursive=True))
    child = table.alias("child")
    down = down.union_all(select(child.c.id).where(child.c.chat_id == chat_id,
                                                   child.c.parent_id == down.c.id))
    ids = list(await session.scalars(select(down.c.id)))
    for chunk in _chunks(ids):
        await session.execute(delete(Message).where(Message.chat_id == chat_id,
                                                    Message.id.in_(chunk)))
    return found.parent_id, set(ids)


async def last_pk(session: AsyncSession, chat_id: str) -> int:
    statement = select(Message.pk).where(Message.chat_id == chat_id)
    return int(await session.scalar(statement.order_by(Message.pk.desc()).limit(1)) or 0)


async def deepest_last(session: AsyncSession, chat_id: str, start: str | None) -> str | None:
    """From `start` (None: the roots) down through each message's last child, to a leaf: the
    message Open WebUI makes current after a delete."""
    current, seen = start, set()
    while True:
        statement = select(Message.id).where(Message.chat_id == chat_id)
        statement = statement.where(Message.parent_id.is_(None) if current is None
                                    else Message.parent_id == current)
        child = await session.scalar(statement.order_by(Message.pk.desc()).limit(1))
        if child is None or child in seen:
            return current
        seen.add(child)
        current = child
