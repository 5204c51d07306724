"""Admin only: read any user's chats, and only through these explicit routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from owui.chat import reads
from owui.chat.rawdb import Raw
from owui.chat.responses import Json, json_array
from owui.chat.routes.paging import Page, bounds
from owui.chat.runtime import RuntimeDep
from owui.chat.schemas import ChatResponse, ChatTitleIdResponse, SortBy, SortDir
from owui.core.auth import AdminUser

router = APIRouter(prefix="/api/v1/chats", tags=["admin"])


@router.get("/list/user/{user_id}", response_model=list[ChatTitleIdResponse])
async def user_chat_list(user_id: str, conn: Raw, _admin: AdminUser, page: Page = None,
                         query: str | None = None, order_by: SortBy = "updated_at",
                         direction: SortDir = "desc") -> Json:
    """A user's chats, archived ones too; `query` filters titles."""
    offset, limit = bounds(page or 1)
    params: dict[str, Any] = {}
    conditions = [reads.title_contains(query, params)] if query else []
    return Json(await reads.list_titles(conn, user_id, archived=None, conditions=conditions,
                                        params=params, sort_by=order_by, sort_dir=direction,
                                        offset=offset, limit=limit))


@router.get("/all/db", response_model=list[ChatResponse])
async def all_chats(runtime: RuntimeDep, _admin: AdminUser) -> StreamingResponse:
    """Every chat of every user, written as it is read."""
    return json_array(reads.batches(runtime.raw, "1 = 1", {}))


@router.get("/admin/{id}", response_model=ChatResponse)
async def any_chat(id: str, conn: Raw, _admin: AdminUser) -> Json:
    return Json(await reads.read_chat(conn, id, None))
