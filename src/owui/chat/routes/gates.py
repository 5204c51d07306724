"""Open WebUI's `features.folders` permission on every folder route. Checked after the folder a
path names is known to be the caller's (or shared with them): another user's folder answers
404 whatever the caller's permissions, as everywhere else; one's own, 403 without it."""

from __future__ import annotations

from fastapi import Depends, Request

from owui.chat.crud import folders as folder_rows
from owui.core.access import current_access, permission_denied
from owui.core.auth import CurrentUser
from owui.core.service import Session


async def folders_allowed(request: Request, session: Session, _user: CurrentUser) -> None:
    access = current_access(request)
    if access.allows("features.folders"):
        return
    folder_id = request.path_params.get("id")
    if folder_id is not None:
        await folder_rows.require_readable(session, folder_id, access)
    raise permission_denied("features.folders")


FOLDERS = Depends(folders_allowed)
