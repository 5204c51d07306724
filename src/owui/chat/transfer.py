"""Export (Open WebUI's `GET /chats/all` lines) and import (`POST /chats/import`).

An import is checked whole before anything is written, then written in one transaction: a bad
chat anywhere stores nothing. An export reads in batches, each in a short session of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.chat.crud import chats as chat_rows
from owui.chat.crud.tags import tag_id
from owui.chat.limits import MAX_TAG_NAME_CHARS, InvalidChat
from owui.chat.models import Folder
from owui.chat.schemas import ChatImportForm
from owui.chat.tree import parse_chat

EXPORT_BATCH = 100


async def batches(sessions: async_sessionmaker[AsyncSession], *where: ColumnElement[bool]
                  ) -> AsyncIterator[list[dict[str, Any]]]:
    """ChatResponses of the chats matching `where`, a batch at a time, oldest first."""
    after = 0
    while True:
        async with sessions() as session:
            rows = await chat_rows.rows_where(session, *where, after_pk=after,
                                              limit=EXPORT_BATCH)
            if not rows:
                return
            yield await chat_rows.full_chats(session, rows)
        after = rows[-1].pk


def _tags(meta: dict[str, Any] | None, where: str) -> dict[str, str]:
    tags = (meta or {}).get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidChat(status.HTTP_422_UNPROCESSABLE_CONTENT,
                          f"{where}.meta.tags must be a list of strings.")
    found = {tag_id(t): t for t in tags if t.strip() and tag_id(t) != "none"}
    if any(len(t) > MAX_TAG_NAME_CHARS for t in found):
        raise InvalidChat(status.HTTP_422_UNPROCESSABLE_CONTENT,
                          f"{where}.meta.tags: a tag is longer than {MAX_TAG_NAME_CHARS}.")
    return found


def prepare(user_id: str, index: int, form: ChatImportForm, folders: set[str]
            ) -> chat_rows.NewChat:
    where = f"chats[{index}]"
    try:
        parsed = parse_chat(form.chat)
    except InvalidChat as exc:
        # Everything wrong in an import file is the file's fault: 422, naming the chat.
        raise InvalidChat(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{where}: {exc.detail}"
                          ) from None
    if parsed.current_id is None and parsed.messages:
        wanted = form.current_message_id
        parsed.current_id = wanted if any(m.id == wanted for m in parsed.messages) else None
    return chat_rows.new_chat(
        user_id, parsed, folder_id=form.folder_id if form.folder_id in folders else None,
        variables=form.variables, meta=form.meta, pinned=bool(form.pinned),
        archived=bool(form.archived), created_at=form.created_at, updated_at=form.updated_at,
        tags=_tags(form.meta, where))


async def import_chats(session: AsyncSession, user_id: str, forms: list[ChatImportForm]
                       ) -> list[dict[str, Any]]:
    if not forms:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "chats: nothing to import.")
    wanted = {f.folder_id for f in forms if f.folder_id}
    folders = set(await session.scalars(select(Folder.id).where(
        Folder.user_id == user_id, Folder.id.in_(wanted)))) if wanted else set()
    prepared = [prepare(user_id, i, form, folders) for i, form in enumerate(forms)]
    await chat_rows.insert_chats(session, prepared)
    await session.commit()
    return [chat.response() for chat in prepared]
