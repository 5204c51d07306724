"""Notes, as Open WebUI's Notes page keeps them: a title and `data` (the editor's content, with
`content.md` its text), times in nanoseconds, pinned per note (a note is its owner's alone:
another user's is absent, 404)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.models import Note
from owui.core.errors import NotFoundError

PAGE_SIZE = 60  # Open WebUI's page of notes
PREVIEW_CHARS = 1000  # a list shows this much of a note's text


class NoteNotFound(NotFoundError):
    def __init__(self, note_id: str) -> None:
        super().__init__(f"No note {note_id!r}.")


def now_ns() -> int:
    return time.time_ns()


def markdown_of(data: dict[str, Any] | None) -> str:
    content = (data or {}).get("content")
    md = content.get("md") if isinstance(content, dict) else None
    return md if isinstance(md, str) else ""


def clean_data(data: Any) -> dict[str, Any] | None:
    """A note's `data` whose `content.md` is text, as Open WebUI's forms make it."""
    if data is None:
        return None
    if not isinstance(data, dict):
        return {"content": {"md": str(data)}}
    content = data.get("content")
    if isinstance(content, dict) and "md" in content and not isinstance(content["md"], str):
        md = content["md"]
        return {**data, "content": {**content, "md": "" if md is None else str(md)}}
    return data


def preview(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a list shows of a note: the start of its text."""
    if not data:
        return data
    return {"content": {"md": markdown_of(data)[:PREVIEW_CHARS]}}


async def require(session: AsyncSession, note_id: str, user_id: str) -> Note:
    note = await session.scalar(select(Note).where(Note.id == note_id, Note.user_id == user_id))
    if note is None:
        raise NoteNotFound(note_id)
    return note


def create(session: AsyncSession, user_id: str, title: str, data: dict[str, Any] | None,
           meta: dict[str, Any] | None) -> Note:
    stamp = now_ns()
    note = Note(user_id=user_id, title=title, data=data or {}, meta=meta, created_at=stamp,
                updated_at=stamp)
    session.add(note)
    return note


def update(note: Note, fields: dict[str, Any]) -> None:
    """Open WebUI's update: the title replaced, `data` and `meta` merged key by key."""
    changed = False
    if "title" in fields and fields["title"] is not None and fields["title"] != note.title:
        note.title, changed = fields["title"], True
    for key in ("data", "meta"):
        if key in fields:
            merged = {**(getattr(note, key) or {}), **(fields[key] or {})}
            if merged != getattr(note, key):
                setattr(note, key, merged)
                changed = True
    if changed:
        note.updated_at = now_ns()


def toggle_pin(note: Note) -> None:
    note.pinned_at = None if note.pinned_at is not None else now_ns()


async def listed(session: AsyncSession, user_id: str, page: int | None) -> list[Note]:
    statement = (select(Note).where(Note.user_id == user_id)
                 .order_by(Note.updated_at.desc(), Note.id))
    if page is not None:
        statement = statement.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return list(await session.scalars(statement))


async def pinned(session: AsyncSession, user_id: str) -> list[Note]:
    return list(await session.scalars(
        select(Note).where(Note.user_id == user_id, Note.pinned_at.is_not(None))
        .order_by(Note.pinned_at.desc(), Note.id)))


@dataclass(frozen=True, slots=True)
class Query:
    """The Notes page's search (Open WebUI's `/notes/search` parameters)."""

    text: str | None = None
    view: str | None = None  # "created": the user's (all are); "shared": others' (none are)
    order_by: str | None = None
    direction: str | None = None


ORDER = {"name": Note.title, "created_at": Note.created_at, "updated_at": Note.updated_at}


async def search(session: AsyncSession, user_id: str, query: Query,
                 page: int | None) -> tuple[list[Note], int]:
    if query.view == "shared":  # notes are private: none is shared with the user
        return [], 0
    statement = select(Note).where(Note.user_id == user_id)
    text = Note.data[("content", "md")].as_string()
    # Every word somewhere in the title or the text, hyphens aside ("todo" finds "to-do").
    for word in (w.replace("-", "").lower() for w in (query.text or "").split()):
        if word:
            like = f"%{word}%"
            statement = statement.where(or_(
                func.lower(func.replace(Note.title, "-", "")).like(like),
                func.lower(func.replace(func.coalesce(text, ""), "-", "")).like(like)))
    total = await session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    column = ORDER.get(query.order_by or "", Note.updated_at)
    order = column.asc() if query.direction == "asc" else column.desc()
    statement = statement.order_by(order, Note.id)
    if page is not None:
        statement = statement.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return list(await session.scalars(statement)), total
