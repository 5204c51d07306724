"""`/api/v1/chats`: create, the chat list, search, pinned, archived, by folder, delete all.

Registered before the `/{id}` routes, whose paths would otherwise swallow these.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from owui.chat.crud import chats as chat_rows
from owui.chat.crud import folders as folder_rows
from owui.chat.crud.search import search
from owui.chat.limits import MAX_SEARCH_CHARS
from owui.chat.models import Chat
from owui.chat.responses import Json
from owui.chat.routes.paging import Page, bounds
from owui.chat.schemas import ChatForm, ChatResponse, ChatTitleIdResponse, SortBy, SortDir
from owui.chat.tree import parse_chat
from owui.core.auth import CurrentUser
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])
FOLDER_PAGE_SIZE = 10


@router.get("/", response_model=list[ChatTitleIdResponse])
@router.get("/list", response_model=list[ChatTitleIdResponse])
async def chat_list(session: Session, user: CurrentUser, page: Page = None,
                    include_pinned: bool = False, include_folders: bool = False,
                    sort_by: SortBy = "updated_at", sort_dir: SortDir = "desc") -> Json:
    """The caller's chats, not archived, newest first; pinned and foldered ones on request."""
    offset, limit = bounds(page)
    return Json(await chat_rows.list_titles(
        session, user.sub, pinned=None if include_pinned else False, in_folders=include_folders,
        sort_by=sort_by, sort_dir=sort_dir, offset=offset, limit=limit))


@router.post("/new", response_model=ChatResponse)
async def create_chat(form: ChatForm, session: Session, user: CurrentUser) -> Json:
    parsed = parse_chat(form.chat)
    if form.folder_id is not None:
        await folder_rows.require(session, form.folder_id, user.sub)
    chat = chat_rows.new_chat(user.sub, parsed, folder_id=form.folder_id,
                              variables=form.variables)
    await chat_rows.insert_chats(session, [chat])
    await session.commit()
    return Json(chat.response())


@router.get("/search", response_model=list[ChatTitleIdResponse])
async def search_chats(session: Session, user: CurrentUser,
                       text: Annotated[str, Query(max_length=MAX_SEARCH_CHARS)],
                       page: Page = None) -> Json:
    """Titles and message text; `tag:NAME`, `pinned:true`, `archived:true` filter."""
    offset, limit = bounds(page or 1)
    return Json(await search(session, user.sub, text, offset, limit or 0))


@router.get("/pinned", response_model=list[ChatTitleIdResponse])
async def pinned_chats(session: Session, user: CurrentUser) -> Json:
    return Json(await chat_rows.list_titles(session, user.sub, pinned=True))


@router.get("/archived", response_model=list[ChatTitleIdResponse])
async def archived_chats(session: Session, user: CurrentUser, page: Page = None,
                         query: str | None = None, order_by: SortBy = "updated_at",
                         direction: SortDir = "desc") -> Json:
    offset, limit = bounds(page or 1)
    return Json(await chat_rows.list_titles(
        session, user.sub, archived=True, title_like=query, sort_by=order_by,
        sort_dir=direction, offset=offset, limit=limit))


@router.get("/archived/count", response_model=int)
async def archived_count(session: Session, user: CurrentUser) -> Json:
    return Json(await chat_rows.count(session, user.sub, archived=True))


@router.get("/all/archived", response_model=list[ChatResponse])
async def all_archived(session: Session, user: CurrentUser) -> Json:
    rows = await chat_rows.rows_where(session, Chat.user_id == user.sub, Chat.archived.is_(True))
    return Json(await chat_rows.full_chats(session, rows))


@router.post("/archive/all", response_model=bool)
async def archive_all(session: Session, user: CurrentUser) -> Json:
    await chat_rows.set_all(session, user.sub, archived=True)
    await session.commit()
    return Json(True)


@router.post("/unarchive/all", response_model=bool)
async def unarchive_all(session: Session, user: CurrentUser) -> Json:
    await chat_rows.set_all(session, user.sub, archived=False)
    await session.commit()
    return Json(True)


@router.delete("/", response_model=bool)
async def delete_all(session: Session, user: CurrentUser) -> Json:
    await chat_rows.delete_chats(session, user.sub, None)
    await session.commit()
    return Json(True)


@router.get("/folder/{folder_id}", response_model=list[ChatResponse])
async def chats_in_folder(folder_id: str, session: Session, user: CurrentUser) -> Json:
    """Every chat in the folder and its subfolders."""
    await folder_rows.require(session, folder_id, user.sub)
    ids = await folder_rows.subtree_ids(session, folder_id, user.sub)
    rows = await chat_rows.rows_where(session, Chat.user_id == user.sub, Chat.folder_id.in_(ids))
    return Json(await chat_rows.full_chats(session, rows))


@router.get("/folder/{folder_id}/list", response_model=list[ChatTitleIdResponse])
async def chat_list_in_folder(folder_id: str, session: Session, user: CurrentUser,
                              page: Page = 1) -> Json:
    await folder_rows.require(session, folder_id, user.sub)
    offset, limit = bounds(page or 1, FOLDER_PAGE_SIZE)
    return Json(await chat_rows.list_titles(session, user.sub, Chat.folder_id == folder_id,
                                            archived=None, offset=offset, limit=limit))
