"""The version routes tools and functions share (`/id/{id}/history...` and
`/id/{id}/update/version`). Versions are the code's history: `find` gives the item only to
those who may change its code (a 404 or 403 otherwise)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import history
from owui.agent.models import Function, PluginVersion, Tool
from owui.agent.routes.common import AccessDep
from owui.agent.runtime import Runtime, RuntimeDep
from owui.core.access import Access
from owui.core.auth import CurrentUser
from owui.core.service import Session
from owui.core.tokens import Claims

Row = Tool | Function
Find = Callable[[AsyncSession, Access, str], Awaitable[Row]]
# Puts a saved version's configuration into production: the row as the update route answers it.
Restore = Callable[[AsyncSession, Runtime, Claims, Row, PluginVersion],
                   Awaitable[dict[str, Any]]]


class VersionForm(BaseModel):
    version_id: str


def add_history_routes(router: APIRouter, kind: str, find: Find, restore: Restore) -> None:

    @router.get("/id/{item_id}/history", summary=f"A {kind}'s saved versions, newest first")
    async def versions(item_id: str, user: AccessDep, session: Session,
                       page: int = 1) -> list[dict[str, Any]]:
        await find(session, user, item_id)
        return await history.page_of(session, kind, item_id, page)

    @router.get("/id/{item_id}/history/diff", summary="What changed between two versions")
    async def version_diff(item_id: str, from_id: str, to_id: str, user: AccessDep,
                           session: Session) -> dict[str, Any]:
        await find(session, user, item_id)
        before = await history.entry(session, kind, item_id, from_id)
        after = await history.entry(session, kind, item_id, to_id)
        return history.diff(before, after)

    @router.get("/id/{item_id}/history/{history_id}", summary="One saved version")
    async def version(item_id: str, history_id: str, user: AccessDep,
                      session: Session) -> dict[str, Any]:
        await find(session, user, item_id)
        found = await history.entry(session, kind, item_id, history_id)
        return history.entry_view(kind, found, with_snapshot=True)

    @router.delete("/id/{item_id}/history/{history_id}", summary="Delete a saved version")
    async def delete_version(item_id: str, history_id: str, user: AccessDep,
                             session: Session) -> bool:
        row = await find(session, user, item_id)
        await history.delete(session, kind, row, history_id)
        return True

    @router.post("/id/{item_id}/update/version", summary="Put a saved version into production")
    async def set_production(item_id: str, form: VersionForm, user: CurrentUser,
                             access: AccessDep, session: Session,
                             runtime: RuntimeDep) -> dict[str, Any]:
        row = await find(session, access, item_id)
        found = await history.entry(session, kind, item_id, form.version_id)
        return await restore(session, runtime, user, row, found)
