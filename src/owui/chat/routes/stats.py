"""`/api/v1/chats/stats/*`: usage figures of the caller's own chats (chat/stats.py), a page at a
time, or as JSON lines (`stream=true`) batch by batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from owui.chat import reads, stats
from owui.chat.rawdb import Raw, RawPool
from owui.chat.responses import Json, ndjson
from owui.chat.runtime import RuntimeDep
from owui.chat.schemas import JsonObject
from owui.core.auth import CurrentUser

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])
EXPORT_PAGE_SIZE = 10  # Open WebUI's export pages
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]


async def _page(conn: Raw, user_id: str, offset: int, limit: int, *, since: int | None = None,
                oldest_first: bool = False) -> tuple[list[JsonObject], int]:
    where = "c.user_id = :user_id"
    params: dict[str, object] = {"user_id": user_id}
    if since is not None:
        where += " AND c.updated_at > :since"
        params["since"] = since
    order = "c.updated_at ASC, c.pk ASC" if oldest_first else "c.updated_at DESC, c.pk DESC"
    total = (await conn.fetch(f"SELECT count(*) FROM chats c WHERE {where}", params))[0][0]
    rows = await reads.chats_where(conn, where, {**params, "limit": limit, "offset": offset},
                                   order=f"{order} LIMIT :limit OFFSET :offset")
    return await reads.full_chats(conn, rows), int(total)


@router.get("/stats/usage", response_model=JsonObject)
async def usage(conn: Raw, user: CurrentUser, page: PageNumber = 1,
                items_per_page: Annotated[int, Query(ge=1, le=500)] = 50) -> Json:
    chats, total = await _page(conn, user.sub, (page - 1) * items_per_page, items_per_page)
    return Json({"items": [stats.usage(chat) for chat in chats], "total": total})


@router.get("/stats/export", response_model=JsonObject)
async def export(conn: Raw, runtime: RuntimeDep, user: CurrentUser, page: PageNumber = 1,
                 updated_at: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
                 stream: bool = False) -> Json | StreamingResponse:
    """Oldest change first, from `updated_at` on; `stream=true`: every chat, as JSON lines."""
    if stream:
        return ndjson(_batches(runtime.raw, user.sub, updated_at))
    chats, total = await _page(conn, user.sub, (page - 1) * EXPORT_PAGE_SIZE, EXPORT_PAGE_SIZE,
                               since=updated_at, oldest_first=True)
    return Json({"type": "chats", "items": [stats.export(chat) for chat in chats],
                 "total": total, "page": page})


async def _batches(pool: RawPool, user_id: str, since: int | None
                   ) -> AsyncIterator[list[JsonObject]]:
    where, params = "c.user_id = :user_id", {"user_id": user_id}
    if since is not None:
        where += " AND c.updated_at > :since"
        params["since"] = since
    async for batch in reads.batches(pool, where, params):
        yield [stats.export(chat) for chat in batch]


@router.get("/stats/export/{chat_id}", response_model=JsonObject)
async def export_one(chat_id: str, conn: Raw, user: CurrentUser) -> Json:
    return Json(stats.export(await reads.read_chat(conn, chat_id, user.sub)))
