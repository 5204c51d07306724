"""`/api/v1/folders`, as Open WebUI: nested folders of a user's chats."""

from __future__ import annotations

from fastapi import APIRouter, Request

from owui.chat import reads
from owui.chat.crud import folders as folder_rows
from owui.chat.crud import grants as grant_rows
from owui.chat.crud import reading
from owui.chat.crud import tags as tag_rows
from owui.chat.limits import PAGE_SIZE
from owui.chat.models import Folder, now
from owui.chat.rawdb import Raw
from owui.chat.responses import Json
from owui.chat.routes.gates import FOLDERS
from owui.chat.routes.paging import Page, bounds
from owui.chat.schemas import (
    FolderAccessGrantsForm,
    FolderForm,
    FolderIsExpandedForm,
    FolderModel,
    FolderNameIdResponse,
    FolderParentIdForm,
    FolderUpdateForm,
    JsonObject,
    SortBy,
    SortDir,
)
from owui.chat.views import folder_model, folder_name_id
from owui.core.access import current_access, permission_denied
from owui.core.auth import CurrentUser
from owui.core.errors import error_response, not_found_response
from owui.core.service import Session
from owui.core.sharing import check_sharing

# Open WebUI's folders feature permission, on every folder route (gates.py).
router = APIRouter(prefix="/api/v1/folders", tags=["folders"], dependencies=[FOLDERS])
_NAME_TAKEN = {409: error_response("A folder of this name exists there.")}
SHARED_PAGE_SIZE = 10  # a shared folder's chats, a page at a time (as Open WebUI)


async def _saved(session: Session, folder: Folder) -> Json:
    folder.updated_at = now()
    await session.commit()
    return Json(folder_model(folder))


@router.get("/", response_model=list[FolderNameIdResponse])
async def list_folders(session: Session, user: CurrentUser) -> Json:
    """The caller's folders, each with its unread chats (and those of its subfolders)."""
    unread = await reading.folder_unread_counts(session, user.sub)
    return Json([folder_name_id(f, unread.get(f.id, 0))
                 for f in await folder_rows.list_all(session, user.sub)])


@router.post("/", response_model=FolderModel, responses={**_NAME_TAKEN, **not_found_response(
    "No parent folder parent_id (or not yours).")})
async def create_folder(form: FolderForm, session: Session, user: CurrentUser) -> Json:
    folder = await folder_rows.create(session, user.sub, name=form.name.strip(),
                                      parent_id=form.parent_id, data=form.data, meta=form.meta)
    await session.commit()
    return Json(folder_model(folder))


@router.get("/{id}", response_model=FolderModel)
async def get_folder(id: str, session: Session, request: Request, _user: CurrentUser) -> Json:
    """The caller's folder, or one shared with them (then `write_access` says if they may
    add to it)."""
    folder, permission = await folder_rows.require_readable(session, id, current_access(request))
    grants = await grant_rows.grants_of(session, grant_rows.FOLDER, id)
    return Json(folder_model(folder, grants, write_access=permission == "write"))


@router.post("/{id}/access/update", response_model=FolderModel)
async def update_folder_access(id: str, form: FolderAccessGrantsForm, session: Session,
                               user: CurrentUser, request: Request) -> Json:
    """Who else may open the folder's chats (owner only; an empty list: nobody). Checked whole
    (sharing more needs `sharing.folders`) before anything is stored."""
    folder = await folder_rows.require(session, id, user.sub)
    grants = grant_rows.parse(form.access_grants)
    check_sharing(grants, current_access(request), "folders",
                  current=await grant_rows.grants_of(session, grant_rows.FOLDER, id))
    await grant_rows.set_grants(session, grant_rows.FOLDER, id, grants)
    if "share_mode" in form.model_fields_set:
        folder.data = {**(folder.data or {}), "share_mode": form.share_mode}
    folder.updated_at = now()
    await session.commit()
    return Json(folder_model(folder, await grant_rows.grants_of(session, grant_rows.FOLDER, id)))


@router.get("/{id}/shared/chats", response_model=JsonObject)
async def shared_folder_chats(id: str, session: Session, conn: Raw, request: Request,
                              _user: CurrentUser, page: Page = None,
                              sort_by: SortBy = "updated_at", sort_dir: SortDir = "desc"
                              ) -> Json:
    """The chats of a folder the caller owns or was granted; another's are read-only."""
    access = current_access(request)
    folder, permission = await folder_rows.require_readable(session, id, access)
    offset, limit = bounds(page, SHARED_PAGE_SIZE) if page else (0, PAGE_SIZE)
    chats = await reads.list_titles(conn, folder.user_id, archived=False,
                                    conditions=["c.folder_id = :folder_id"],
                                    params={"folder_id": id}, sort_by=sort_by,
                                    sort_dir=sort_dir, offset=offset, limit=limit)
    mine = folder.user_id == access.user_id
    answer: dict[str, object] = {
        "chats": [{**chat, "user_id": folder.user_id, "readonly": not mine,
                   **({} if mine else {"last_read_at": chat["updated_at"]})}
                  for chat in chats],
        "folder_permission": permission}
    if page:
        total = await folder_rows.count_chats(session, id)
        answer.update(total=total, has_more=offset + SHARED_PAGE_SIZE < total)
    return Json(answer)


@router.post("/{id}/read", response_model=JsonObject)
async def mark_folder_read(id: str, session: Session, request: Request,
                           user: CurrentUser) -> Json:
    """Clears the unread marks of the caller's chats in the folder (and its subfolders, when
    the folder is theirs)."""
    folder, _ = await folder_rows.require_readable(session, id, current_access(request))
    ids = (await folder_rows.subtree_ids(session, id, user.sub) if folder.user_id == user.sub
           else [id])
    updated = await reading.mark_read(session, user.sub, ids)
    counts = await reading.folder_unread_counts(session, user.sub)
    await session.commit()
    return Json({"folder_id": id, "folder_ids": ids, "updated_count": updated,
                 "folder_unread_counts": counts})


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
async def delete_folder(id: str, session: Session, request: Request, user: CurrentUser,
                        delete_contents: bool = True) -> Json:
    """With its subfolders; their chats are deleted, or moved out with `delete_contents=false`."""
    folder = await folder_rows.require(session, id, user.sub)
    if delete_contents and not current_access(request).allows("chat.delete") and \
            await folder_rows.holds_chats(session, folder):
        raise permission_denied("chat.delete")  # its chats would go: as deleting them
    await folder_rows.remove(session, folder, delete_contents=delete_contents)
    if delete_contents:
        await tag_rows.drop_unused(session, user.sub)
    await session.commit()
    return Json(True)
