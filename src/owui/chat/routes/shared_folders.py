"""`GET /api/v1/folders/shared`: the folders other users share with the caller, which Open WebUI's
web app lists on every load. owui's folders are private to their owner (none is shared), so the
list is empty; the route exists so that `shared` is never looked up as a folder id by
`/api/v1/folders/{id}`: include this router before the folders router."""

from __future__ import annotations

from fastapi import APIRouter

from owui.chat.responses import Json
from owui.chat.schemas import FolderNameIdResponse
from owui.core.auth import CurrentUser

router = APIRouter(prefix="/api/v1/folders", tags=["folders"])


@router.get("/shared", response_model=list[FolderNameIdResponse],
            summary="Folders shared with the caller (none: owui's folders are private)")
async def shared_folders(user: CurrentUser) -> Json:
    return Json([])
