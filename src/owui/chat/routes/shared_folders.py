"""`GET /api/v1/folders/shared`: the folders other users share with the caller (and those below
them), which Open WebUI's web app lists on every load. Included before the folders router, so
that `shared` is never looked up as a folder id by `/api/v1/folders/{id}`."""

from __future__ import annotations

from fastapi import APIRouter, Request

from owui.chat.crud import folders as folder_rows
from owui.chat.responses import Json
from owui.chat.routes.gates import FOLDERS
from owui.chat.schemas import JsonObject
from owui.chat.views import folder_model
from owui.core.access import current_access
from owui.core.auth import CurrentUser
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/folders", tags=["folders"], dependencies=[FOLDERS])


@router.get("/shared", response_model=list[JsonObject],
            summary="Folders shared with the caller, with their permission on each")
async def shared_folders(session: Session, request: Request, _user: CurrentUser) -> Json:
    """Open WebUI's items: the folder, `permission` (read or write) and `owner_name` (the
    chat service knows users by id only: null)."""
    found = await folder_rows.shared_with(session, current_access(request))
    return Json([{**folder_model(folder, write_access=permission == "write"),
                  "owner_name": None, "permission": permission}
                 for folder, permission in found])
