"""The six valves routes that tools and functions share: values, spec and update, for the
admin (`Valves`) and for each user (`UserValves`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Body, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import crud
from owui.agent.models import Function, Tool
from owui.agent.plugins.loaded import Loaded, check_valves
from owui.agent.routes.common import AccessDep
from owui.agent.runtime import RuntimeDep
from owui.core.access import Access
from owui.core.service import Session

Row = Tool | Function
Find = Callable[[AsyncSession, Access, str], Awaitable[Row]]
Load = Callable[[Any, Row], Loaded]
MayWrite = Callable[[Access, Row], bool]


def add_valves_routes(router: APIRouter, kind: str, find: Find, load: Load,
                      may_write: MayWrite) -> None:
    """Routes under `/id/{id}/valves` for `kind` ("tool" or "function"); the admin's valves
    are for those `may_write` allows, each user's own for everyone who can see the item."""

    async def writable(session: AsyncSession, access: Access, item_id: str) -> Row:
        row = await find(session, access, item_id)
        if not may_write(access, row):
            raise HTTPException(403, f"You may not change the valves of the {kind} "
                                     f"'{item_id}'.")
        return row

    @router.get("/id/{item_id}/valves")
    async def get_valves(item_id: str, user: AccessDep, session: Session) -> dict[str, Any]:
        return (await writable(session, user, item_id)).valves or {}

    @router.get("/id/{item_id}/valves/spec")
    async def valves_spec(item_id: str, user: AccessDep, session: Session,
                          runtime: RuntimeDep) -> dict[str, Any] | None:
        cls = load(runtime.plugins, await find(session, user, item_id)).valves_class
        return cls.model_json_schema() if cls else None

    @router.post("/id/{item_id}/valves/update")
    async def update_valves(item_id: str, user: AccessDep, session: Session, runtime: RuntimeDep,
                            form: dict[str, Any] = Body(...)) -> dict[str, Any]:
        row = await writable(session, user, item_id)
        values = check_valves(load(runtime.plugins, row).valves_class, form, kind)
        row.valves = values
        crud.touch(row)
        await session.commit()
        runtime.functions.invalidate()
        return values

    @router.get("/id/{item_id}/valves/user")
    async def get_user_valves(item_id: str, user: AccessDep, session: Session,
                              runtime: RuntimeDep) -> dict[str, Any] | None:
        row = await find(session, user, item_id)
        stored = await crud.user_valves(session, kind, row.id, user.user_id)
        valves = load(runtime.plugins, row).user_valves(stored)
        return valves.model_dump(mode="json") if valves is not None else None

    @router.get("/id/{item_id}/valves/user/spec")
    async def user_valves_spec(item_id: str, user: AccessDep, session: Session,
                               runtime: RuntimeDep) -> dict[str, Any] | None:
        cls = load(runtime.plugins, await find(session, user, item_id)).user_valves_class
        return cls.model_json_schema() if cls else None

    @router.post("/id/{item_id}/valves/user/update")
    async def update_user_valves(item_id: str, user: AccessDep, session: Session,
                                 runtime: RuntimeDep, form: dict[str, Any] = Body(...),
                                 ) -> dict[str, Any]:
        row = await find(session, user, item_id)
        values = check_valves(load(runtime.plugins, row).user_valves_class, form,
                              f"{kind} (for users)")
        await crud.set_user_valves(session, kind, row.id, user.user_id, values)
        return values
