"""`/api/v1/folders`, as Open WebUI: nested folders of a user's chats."""

from __future__ import annotations

from fastapi import APIRouter

from owui.chat.crud import folders as folder_rows
from owui.chat.crud import tags as tag_rows
from owui.chat.models import Folder, now
from owui.chat.responses import Json
from owui.chat.schemas import (
    FolderForm,
    FolderIsExpandedForm,
    FolderModel,
    FolderNameIdResponse,
    FolderParentIdForm,
    FolderUpdateForm,
)
from owui.chat.views import folder_model, folder_name_id
from owui.core.auth import CurrentUser
from owui.core.errors import error_response, not_found_response
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/folders", tags=["folders"])
_NAME_TAKEN = {409: error_response("A folder of this name exists there.")}


async def _saved(session: Session, folder: Folder) -> Json:
    folder.updated_at = now()
    await session.commit()
    return Json(folder_model(folder))


@router.get("/", response_model=list[FolderNameIdResponse])
async def list_folders(session: Session, user: CurrentUser) -> Json:
    return Json([folder_name_id(f) for f in await folder_rows.list_all(session, user.sub)])


@router.post("/", response_model=FolderModel, responses={**_NAME_TAKEN, **not_found_response(
    "No parent folder parent_id (or not yours).")})
async def create_folder(form: FolderForm, session: Session, user: CurrentUser) -> Json:
    folder = await folder_rows.create(session, user.sub, name=form.name.strip(),
                                      parent_id=form.parent_id, data=form.data, meta=form.meta)
    await session.commit()
    return Json(folder_model(folder))


@router.get("/{id}", response_model=FolderModel)
async def get_folder(id: str, session: Session, user: CurrentUser) -> Json:
    return Json(folder_model(await folder_rows.require(session, id, user.sub)))


@router.post("/{id}/update", response_model=FolderModel, responses=_NAME_TAKEN)
async def update_folder(id: str, form: FolderUpdateForm, session: Session,
                        user: CurrentUser) -> Json:
    folder = await folder_rows.require(session, id, user.sub)
    if form.name is not None:
        name = form.name.strip()
        await folder_rows.check_name_free(session, user.sub, folder.parent_id, name,
                                          except_id=id)
        folder.name = name
    if form.data is not None:
        folder.data = {**(folder.data or {}), **form.data}
    if form.meta is not None:
        folder.meta = {**(folder.meta or {}), **form.meta}
    return await _saved(session, folder)


@router.post("/{id}/update/parent", response_model=FolderModel, responses=_NAME_TAKEN)
async def move_folder(id: str, form: FolderParentIdForm, session: Session,
                      user: CurrentUser) -> Json:
    """Under another folder of the caller's (never inside itself), or to the top with null."""
    folder = await folder_rows.require(session, id, user.sub)
    await folder_rows.move(session, folder, form.parent_id)
    return await _saved(session, folder)


@router.post("/{id}/update/expanded", response_model=FolderModel)
async def expand_folder(id: str, form: FolderIsExpandedForm, session: Session,
                        user: CurrentUser) -> Json:
    folder = await folder_rows.require(session, id, user.sub)
    folder.is_expanded = form.is_expanded
    return await _saved(session, folder)


@router.delete("/{id}", response_model=bool)
async def delete_folder(id: str, session: Session, user: CurrentUser,
                        delete_contents: bool = True) -> Json:
    """With its subfolders; their chats are deleted, or moved out with `delete_contents=false`."""
    folder = await folder_rows.require(session, id, user.sub)
    await folder_rows.remove(session, folder, delete_contents=delete_contents)
    if delete_contents:
        await tag_rows.drop_unused(session, user.sub)
    await session.commit()
    return Json(True)
