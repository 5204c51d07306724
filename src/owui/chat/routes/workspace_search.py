"""`GET /api/v1/search`: the web app's search box over the caller's chats (Open WebUI's
SearchResponse). The chat service holds chats and folders; the notes and channel messages
Open WebUI also searches there are not in it: `kinds` says `chat` only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from owui.chat import reads
from owui.chat.crud import folders as folder_rows
from owui.chat.limits import MAX_SEARCH_CHARS
from owui.chat.rawdb import Raw
from owui.chat.responses import Json
from owui.chat.schemas import JsonObject
from owui.chat.search import search
from owui.core.auth import CurrentUser
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/search", tags=["search"])
PAGE_SIZE = 30


def _result(chat: dict[str, Any], row: reads.ChatRow | None, folders: dict[str, str]
            ) -> JsonObject:
    folder = row.folder_id if row else None
    return {"id": chat["id"], "kind": "chat", "title": chat["title"],
            "context": folders.get(folder or "", ""), "snippet": chat.get("snippet") or "",
            "preview": "", "url": f"/c/{chat['id']}", "updated_at": chat["updated_at"],
            "shared": False, "pinned": bool(row.pinned) if row else False}


@router.get("", response_model=JsonObject)
async def search_workspace(
        session: Session, conn: Raw, user: CurrentUser,
        q: Annotated[str, Query(max_length=MAX_SEARCH_CHARS)] = "",
        kind: Literal["all", "chat", "message", "note"] = "all",
        sharing: Literal["all", "mine", "shared"] = "all",
        scope: Annotated[str, Query(max_length=200)] = "",
        page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Json:
    """The caller's chats whose title or messages hold `q` (newest first, 30 a page);
    `scope` `folder:<id>`: that folder and those below it."""
    folders = {f.id: f.name for f in await folder_rows.list_all(session, user.sub)}
    scopes = sorted(({"id": f"folder:{i}", "name": n, "kind": "folder"}
                     for i, n in folders.items()), key=lambda s: (s["name"].lower(), s["id"]))
    answer: JsonObject = {"items": [], "has_more": False, "scopes": scopes, "kinds": ["chat"]}
    if kind not in ("all", "chat") or sharing == "shared" or \
            (scope and scope not in {s["id"] for s in scopes}):
        return Json(answer)
    inside = (await folder_rows.subtree_ids(session, scope.removeprefix("folder:"), user.sub)
              if scope else None)
    found = await search(conn, user.sub, q, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1, inside)
    params: dict[str, Any] = {"user_id": user.sub}
    where = "c.user_id = :user_id AND c.id " + conn.in_list(
        "ids", [c["id"] for c in found] or [""], params)
    rows = {r.id: r for r in await reads.chats_where(conn, where, params)}
    answer["items"] = [_result(c, rows.get(c["id"]), folders) for c in found[:PAGE_SIZE]]
    answer["has_more"] = len(found) > PAGE_SIZE
    return Json(answer)
