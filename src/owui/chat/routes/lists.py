"""`/api/v1/chats`: create, the chat list, search, pinned, archived, by folder, delete all.

Registered before the `/{id}` routes, whose paths would otherwise swallow these.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from owui.chat import reads, writes
from owui.chat.chat_config import chat_config
from owui.chat.crud import chats as chat_rows
from owui.chat.crud import folders as folder_rows
from owui.chat.crud import reading
from owui.chat.limits import MAX_SEARCH_CHARS
from owui.chat.rawdb import Raw
from owui.chat.responses import Json
from owui.chat.routes.chats import DELETE_CHATS
from owui.chat.routes.paging import Page, bounds
from owui.chat.schemas import (
    ChatForm,
    ChatResponse,
    ChatTitleIdResponse,
    JsonObject,
    SortBy,
    SortDir,
)
from owui.chat.search import search
from owui.chat.tree import parse_chat
from owui.core.auth import AdminUser, CurrentUser
from owui.core.errors import not_found_response
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])
FOLDER_PAGE_SIZE = 10


@router.get("/", response_model=list[ChatTitleIdResponse])
@router.get("/list", response_model=list[ChatTitleIdResponse])
async def chat_list(conn: Raw, user: CurrentUser, page: Page = None,
                    include_pinned: bool = False, include_folders: bool = False,
                    sort_by: SortBy = "updated_at", sort_dir: SortDir = "desc") -> Json:
    """The caller's chats, not archived, newest first; pinned and foldered ones on request."""
    offset, limit = bounds(page)
    return Json(await reads.list_titles(
        conn, user.sub, pinned=None if include_pinned else False, in_folders=include_folders,
        sort_by=sort_by, sort_dir=sort_dir, offset=offset, limit=limit))


@router.post("/new", response_model=ChatResponse,
             responses=not_found_response("No folder folder_id (or not yours)."))
async def create_chat(form: ChatForm, conn: Raw, user: CurrentUser) -> Json:
    parsed = parse_chat(form.chat)
    if form.folder_id is not None:
        await reads.require_folder(conn, form.folder_id, user.sub)
    chat = writes.new_chat(user.sub, parsed, folder_id=form.folder_id,
                           variables=form.variables)
    await conn.write(lambda writer: writes.insert_chats(writer, [chat]))
    return Json(chat.response())


@router.get("/search", response_model=list[ChatTitleIdResponse])
async def search_chats(conn: Raw, user: CurrentUser,
                       text: Annotated[str, Query(max_length=MAX_SEARCH_CHARS)],
                       page: Page = None) -> Json:
    """Titles and message text; `tag:NAME`, `pinned:true`, `archived:true` filter."""
    offset, limit = bounds(page or 1)
    return Json(await search(conn, user.sub, text, offset, limit or 0))


@router.get("/pinned", response_model=list[ChatTitleIdResponse])
async def pinned_chats(conn: Raw, user: CurrentUser) -> Json:
    return Json(await reads.list_titles(conn, user.sub, pinned=True))


@router.get("/archived", response_model=list[ChatTitleIdResponse])
async def archived_chats(conn: Raw, user: CurrentUser, page: Page = None,
                         query: str | None = None, order_by: SortBy = "updated_at",
                         direction: SortDir = "desc") -> Json:
    offset, limit = bounds(page or 1)
    params: dict[str, Any] = {}
    conditions = [reads.title_contains(query, params)] if query else []
    return Json(await reads.list_titles(
        conn, user.sub, archived=True, conditions=conditions, params=params, sort_by=order_by,
        sort_dir=direction, offset=offset, limit=limit))


@router.get("/archived/count", response_model=int)
async def archived_count(session: Session, user: CurrentUser) -> Json:
    return Json(await chat_rows.count(session, user.sub, archived=True))


@router.get("/all/archived", response_model=list[ChatResponse])
async def all_archived(conn: Raw, user: CurrentUser) -> Json:
    rows = await reads.chats_where(conn, "c.user_id = :user_id AND c.archived = :archived",
                                   {"user_id": user.sub, "archived": True})
    return Json(await reads.full_chats(conn, rows))


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


class ChatConfigForm(BaseModel):
    """Open WebUI's chat settings (chat_config.py says which of them owui acts on)."""

    CONTEXT_COMPACTION_MODEL: str | None = ""
    ENABLE_CONTEXT_COMPACTION: bool
    CONTEXT_COMPACTION_TOKEN_THRESHOLD: int | None = Field(None, ge=0, lt=2**31)
    CONTEXT_COMPACTION_TOKEN_CAP: int | None = Field(None, ge=0, lt=2**31)
    CONTEXT_COMPACTION_RETENTION_PERCENTAGE: int | None = Field(None, ge=0, le=100)
    CONTEXT_COMPACTION_PROMPT_TEMPLATE: str = Field(max_length=100_000)
    ENABLE_TOOL_PERMISSIONS: bool = False
    ENABLE_TOOL_SEARCH: bool = False
    TOOL_SEARCH_DEFER_THRESHOLD: int = Field(400, ge=0, lt=2**31)
    TOOL_SEARCH_ALWAYS_LOADED: list[str] = Field(default_factory=list, max_length=1000)
    TOOL_SEARCH_DEFER_BUILTIN_TOOLS: bool = True


@router.get("/config", response_model=ChatConfigForm)
async def get_config(request: Request, _admin: AdminUser) -> Json:
    return Json((await chat_config(request)).snapshot())


@router.post("/config", response_model=ChatConfigForm)
async def set_config(form: ChatConfigForm, request: Request, _admin: AdminUser) -> Json:
    return Json(await (await chat_config(request)).update(form.model_dump()))


@router.post("/read", response_model=JsonObject)
async def mark_all_read(session: Session, user: CurrentUser) -> Json:
    """Clears every unread mark of the caller's chats (not archived)."""
    updated = await reading.mark_read(session, user.sub)
    counts = await reading.folder_unread_counts(session, user.sub)
    await session.commit()
    return Json({"updated_count": updated, "folder_unread_counts": counts})


@router.delete("/", response_model=bool, dependencies=[DELETE_CHATS])
async def delete_all(session: Session, user: CurrentUser) -> Json:
    await chat_rows.delete_chats(session, user.sub, None)
    await session.commit()
    return Json(True)


@router.get("/folder/{folder_id}", response_model=list[ChatResponse])
async def chats_in_folder(folder_id: str, session: Session, conn: Raw,
                          user: CurrentUser) -> Json:
    """Every chat in the folder and its subfolders."""
    await folder_rows.require(session, folder_id, user.sub)
    params: dict[str, Any] = {"user_id": user.sub}
    inside = conn.in_list("folders", await folder_rows.subtree_ids(session, folder_id, user.sub),
                          params)
    rows = await reads.chats_where(conn, f"c.user_id = :user_id AND c.folder_id {inside}",
                                   params)
    return Json(await reads.full_chats(conn, rows))


@router.get("/folder/{folder_id}/list", response_model=list[ChatTitleIdResponse])
async def chat_list_in_folder(folder_id: str, conn: Raw, user: CurrentUser,
                              page: Page = 1) -> Json:
    await reads.require_folder(conn, folder_id, user.sub)
    offset, limit = bounds(page or 1, FOLDER_PAGE_SIZE)
    return Json(await reads.list_titles(
        conn, user.sub, archived=None, conditions=["c.folder_id = :folder_id"],
        params={"folder_id": folder_id}, offset=offset, limit=limit))
