"""`/api/v1/notes`, as far as Open WebUI's web app reads it on every load: the pinned notes.

owui keeps no notes yet, so none is pinned: the sidebar's "Pinned notes" section stays empty, as
it does on Open WebUI for a user who never wrote one."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from owui.chat.responses import Json
from owui.core.auth import CurrentUser

router = APIRouter(prefix="/api/v1/notes", tags=["notes"])


class NoteUser(BaseModel):
    id: str
    name: str


class NoteItemResponse(BaseModel):
    """One note of a list, Open WebUI's shape."""

    id: str
    title: str
    data: dict[str, object] | None
    is_pinned: bool | None = False
    updated_at: int
    created_at: int
    user: NoteUser | None = None


@router.get("/pinned", response_model=list[NoteItemResponse],
            summary="The caller's pinned notes (none: owui keeps no notes yet)")
async def pinned_notes(user: CurrentUser) -> Json:
    return Json([])
