"""`/api/v1/notes`, as Open WebUI 0.12: the Notes page (create, edit, pin, search, delete), the
sidebar's pinned notes, and the note's chat panel: hidden chats about the note (`chats.note_id`
set), which no chat list shows and which go with the note. Real-time co-editing (`ydoc:*` over
socket.io) is not served: a note is saved whole by `update`. Notes are private to their owner."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from owui.chat import reads, writes
from owui.chat.crud import chats as chat_rows
from owui.chat.crud import notes as rows
from owui.chat.models import Chat, Note
from owui.chat.rawdb import Raw, RawConnection
from owui.chat.responses import Json
from owui.chat.routes.paging import Page
from owui.chat.schemas import ChatResponse
from owui.chat.tree import ChatIn
from owui.chat.workspace import (
    MAX_NAME_CHARS,
    MAX_NOTE_BYTES,
    SHARING_NOT_SERVED,
    AccessGrantsForm,
    check_bytes,
    owner,
    private_access,
    private_only,
)
from owui.core.access import require_permission
from owui.core.auth import CurrentUser
from owui.core.errors import not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims

# Open WebUI's `features.notes` permission, on every route (admins have every permission).
router = APIRouter(prefix="/api/v1/notes", tags=["notes"],
                   dependencies=[Depends(require_permission("features.notes"))])
_NOT_FOUND = not_found_response("No note of this id (or not yours).")


class NoteForm(BaseModel):
    title: str = Field(max_length=MAX_NAME_CHARS)
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    access_grants: list[dict[str, Any]] | None = None

    _data = field_validator("data", mode="before")(rows.clean_data)


class NoteUpdateForm(BaseModel):
    title: str | None = Field(None, max_length=MAX_NAME_CHARS)
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    _data = field_validator("data", mode="before")(rows.clean_data)


class NoteAccessGrantsForm(AccessGrantsForm):
    pass


def _check_size(note: Note) -> None:
    """The note as it would be stored; past the limit nothing is (413)."""
    check_bytes("The note", {"title": note.title, "data": note.data, "meta": note.meta},
                MAX_NOTE_BYTES)


def note_model(note: Note) -> dict[str, Any]:
    return {"id": note.id, "user_id": note.user_id, "title": note.title, "data": note.data,
            "meta": note.meta, "is_pinned": note.pinned_at is not None, "access_grants": [],
            "created_at": note.created_at, "updated_at": note.updated_at}


def note_item(note: Note, user: Claims) -> dict[str, Any]:
    """A note in a list: its text cut short, and its owner."""
    return {"id": note.id, "title": note.title, "data": rows.preview(note.data),
            "is_pinned": note.pinned_at is not None, "updated_at": note.updated_at,
            "created_at": note.created_at, "user": owner(user)}


@router.get("/", summary="The caller's notes, the last changed first (60 a page)")
async def list_notes(session: Session, user: CurrentUser, page: Page = None) -> Json:
    return Json([note_item(n, user) for n in await rows.listed(session, user.sub, page)])


@router.get("/pinned", summary="The caller's pinned notes, the last pinned first")
async def pinned_notes(session: Session, user: CurrentUser) -> Json:
    return Json([note_item(n, user) for n in await rows.pinned(session, user.sub)])


@router.get("/search", summary="The Notes page: every word in the title or the text")
async def search_notes(session: Session, user: CurrentUser,
                       query: Annotated[str | None, Query(max_length=500)] = None,
                       view_option: str | None = None, permission: str | None = None,
                       order_by: str | None = None, direction: str | None = None,
                       page: Page = 1) -> Json:
    found, total = await rows.search(session, user.sub, rows.Query(
        query, view_option, order_by, direction), page)
    items = [{**note_model(n), "data": rows.preview(n.data), "user": owner(user)}
             for n in found]
    return Json({"items": items, "total": total})


@router.post("/create")
async def create_note(form: NoteForm, session: Session, user: CurrentUser) -> Json:
    private_only("Notes", form.access_grants)
    note = rows.create(session, user.sub, form.title, form.data, form.meta)
    _check_size(note)
    await session.commit()
    return Json(note_model(note))


@router.get("/{id}", responses=_NOT_FOUND)
async def get_note(id: str, session: Session, user: CurrentUser) -> Json:
    return Json({**note_model(await rows.require(session, id, user.sub)), "write_access": True})


@router.post("/{id}/update", responses=_NOT_FOUND)
async def update_note(id: str, form: NoteUpdateForm, session: Session,
                      user: CurrentUser) -> Json:
    note = await rows.require(session, id, user.sub)
    rows.update(note, form.model_dump(exclude_unset=True))
    _check_size(note)
    await session.commit()
    return Json(note_model(note))


@router.post("/{id}/access/update", responses=_NOT_FOUND, summary=SHARING_NOT_SERVED)
async def update_note_access(id: str, form: NoteAccessGrantsForm, session: Session,
                             user: CurrentUser) -> Json:
    return await private_access("Notes", form, rows.require(session, id, user.sub), note_model)


@router.post("/{id}/pin", responses=_NOT_FOUND, summary="Pins the note, or unpins it")
async def pin_note(id: str, session: Session, user: CurrentUser) -> Json:
    note = await rows.require(session, id, user.sub)
    rows.toggle_pin(note)
    await session.commit()
    return Json(note_model(note))


@router.delete("/{id}/delete", response_model=bool, responses=_NOT_FOUND)
async def delete_note(id: str, session: Session, user: CurrentUser) -> Json:
    """The note, and its hidden chats (no list shows them: nothing else would reach them)."""
    note = await rows.require(session, id, user.sub)
    hidden = await session.scalars(select(Chat.id).where(Chat.user_id == user.sub,
                                                         Chat.note_id == note.id))
    await chat_rows.delete_chats(session, user.sub, list(hidden))
    await session.delete(note)
    await session.commit()
    return Json(True)


def _note_chat(user_id: str, note_id: str) -> writes.NewChat:
    """Open WebUI's hidden chat about a note: titled "Chat", no model chosen yet, a system
    prompt that names the note, and `meta` marking it internal."""
    system = (f"CONTEXT:\nCurrent note id: {note_id}\n"
              "This chat is attached to the current note.")
    body = ChatIn("Chat", {"models": [""], "params": {"system": system}, "tags": []}, [], None)
    return writes.new_chat(user_id, body,
                           meta={"internal": True, "type": "note", "note_id": note_id})


async def _new_note_chat(conn: RawConnection, user_id: str, note_id: str) -> ChatResponse:
    chat = _note_chat(user_id, note_id)

    async def job(writer: RawConnection) -> None:
        await writes.insert_chats(writer, [chat])
        await writer.execute("UPDATE chats SET note_id = :note_id WHERE id = :id",
                             {"note_id": note_id, "id": chat.row.id})

    await conn.write(job)
    return chat.response()


async def _note_chats(conn: RawConnection, user_id: str, note_id: str, limit: int | None = None
                      ) -> list[ChatResponse]:
    """The caller's hidden chats about the note, the last changed first."""
    found = await reads.chats_where(conn, "c.user_id = :user_id AND c.note_id = :note_id",
                                    {"user_id": user_id, "note_id": note_id},
                                    order="c.updated_at DESC, c.created_at DESC, c.pk DESC",
                                    limit=limit)
    return await reads.full_chats(conn, found)


@router.get("/{id}/chat", response_model=ChatResponse, responses=_NOT_FOUND,
            summary="The note's chat panel: the caller's last chat about the note, or a new one")
async def get_note_chat(id: str, session: Session, conn: Raw, user: CurrentUser) -> Json:
    note = await rows.require(session, id, user.sub)
    found = await _note_chats(conn, user.sub, note.id, limit=1)
    return Json(found[0] if found else await _new_note_chat(conn, user.sub, note.id))


@router.post("/{id}/chat", response_model=ChatResponse, responses=_NOT_FOUND,
             summary="A new hidden chat about the note (the panel's new chat)")
async def create_note_chat(id: str, session: Session, conn: Raw, user: CurrentUser) -> Json:
    note = await rows.require(session, id, user.sub)
    return Json(await _new_note_chat(conn, user.sub, note.id))


@router.get("/{id}/chats", response_model=list[ChatResponse], responses=_NOT_FOUND,
            summary="The caller's hidden chats about the note, the last changed first")
async def list_note_chats(id: str, session: Session, conn: Raw, user: CurrentUser) -> Json:
    note = await rows.require(session, id, user.sub)
    return Json(await _note_chats(conn, user.sub, note.id))
