"""Message rows: load, append one, walk the active branch, diff a whole history, delete a branch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import Row, and_, delete, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.models import Chat, Message, now
from owui.chat.tree import MessageIn, children_of, message_out

MESSAGE_COLUMNS = (Message.id, Message.parent_id, Message.role, Message.content, Message.model,
                   Message.timestamp, Message.extra)
_FIELDS = ("parent_id", "role", "content", "model", "timestamp", "extra")
# Deeper than any chat the limits let in: a guard should stored rows ever hold a cycle.
MAX_DEPTH = 100_000
_CHUNK = 500


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


async def load(session: AsyncSession, chat_ids: Sequence[str], cut: int | None = None
               ) -> list[Row]:
    """Messages of the given chats, in insertion order (which is sibling order)."""
    rows: list[Row] = []
    for chunk in _chunks(chat_ids):
        statement = select(Message.chat_id, *MESSAGE_COLUMNS).where(Message.chat_id.in_(chunk))
        if cut is not None:
            statement = statement.where(Message.pk <= cut)
        rows += await session.execute(statement.order_by(Message.pk))
    return rows


async def insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(Message.__table__.insert(), rows)


def _conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail)


async def append(session: AsyncSession, chat_id: str, user_id: str, message: MessageIn, *,
                 parent_given: bool, make_current: bool) -> dict[str, Any]:
    """One new row (and the chat's updated_at / current id): the chat itself is not rewritten."""
    taken = (select(Message.pk).where(Message.chat_id == chat_id, Message.id == message.id)
             .scalar_subquery())
    parent = (select(Message.pk).where(Message.chat_id == chat_id,
                                       Message.id == message.parent_id).scalar_subquery())
    found = (await session.execute(
        select(Chat.current_message_id, taken.label("taken"), parent.label("parent"))
        .where(Chat.id == chat_id, Chat.user_id == user_id))).first()
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No chat {chat_id!r}.")
    if found.taken is not None:
        raise _conflict(f"Chat {chat_id!r} already has a message {message.id!r}.")
    if not parent_given:
        message.parent_id = found.current_message_id
    elif message.parent_id is not None and found.parent is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"parentId {message.parent_id!r} is not a message of chat "
                            f"{chat_id!r}.")
    stamp = now()
    await insert(session, [{**message.columns(), "chat_id": chat_id, "created_at": stamp,
                            "updated_at": stamp}])
    values: dict[str, Any] = {"updated_at": stamp}
    if make_current:
        values["current_message_id"] = message.id
    await session.execute(update(Chat).where(Chat.id == chat_id).values(**values))
    return message_out(message, [])


def _with_children(rows: Sequence[Row]) -> list[dict[str, Any]]:
    children = children_of(rows)
    return [message_out(row, children.get(row.id, [])) for row in rows]


async def all_of(session: AsyncSession, chat_id: str) -> list[dict[str, Any]]:
    return _with_children(await load(session, [chat_id]))


async def branch(session: AsyncSession, chat_id: str, leaf: str | None
                 ) -> list[dict[str, Any]]:
    """Root to `leaf`, with each message's children, in one query (a recursive CTE)."""
    if leaf is None:
        return []
    table = Message.__table__
    up = (select(table.c.pk, table.c.parent_id, literal_column("0").label("depth"))
          .where(table.c.chat_id == chat_id, table.c.id == leaf)
          .cte("branch", recursive=True))
    parent = table.alias("parent")
    up = up.union_all(select(parent.c.pk, parent.c.parent_id, up.c.depth + 1)
                      .where(parent.c.chat_id == chat_id, parent.c.id == up.c.parent_id,
                             up.c.depth < MAX_DEPTH))
    child = table.alias("child")
    statement = (
        select(up.c.depth, *(table.c[c.key] for c in MESSAGE_COLUMNS),
               child.c.id.label("child_id"))
        .join_from(up, table, table.c.pk == up.c.pk)
        .outerjoin(child, and_(child.c.chat_id == chat_id, child.c.parent_id == table.c.id))
        .order_by(up.c.depth.desc(), child.c.pk)
    )
    path: list[dict[str, Any]] = []
    depth = None
    for row in await session.execute(statement):
        if row.depth != depth:
            depth = row.depth
            path.append(message_out(row, []))
        if row.child_id is not None:
            path[-1]["childrenIds"].append(row.child_id)
    return path


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
    await insert(session, added)


async def set_content(session: AsyncSession, chat_id: str, message_id: str, content: str
                      ) -> None:
    result = await session.execute(
        update(Message).where(Message.chat_id == chat_id, Message.id == message_id)
        .values(content=content, updated_at=now()))
    if result.rowcount == 0:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"Chat {chat_id!r} has no message {message_id!r}.")


async def delete_branch(session: AsyncSession, chat_id: str, message_id: str
                        ) -> tuple[str | None, set[str]]:
    """Delete a message and everything below it; returns its parent and the ids deleted."""
    table = Message.__table__
    parent_id = (select(table.c.parent_id).where(table.c.chat_id == chat_id,
                                                 table.c.id == message_id))
    found = (await session.execute(parent_id)).first()
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"Chat {chat_id!r} has no message {message_id!r}.")
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
