"""Open WebUI's `/api/v1/functions`: filters, pipes and actions, managed by admins; active
ones apply to runs (globally, or for the models named in `meta.model_ids`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import crud
from owui.agent.models import Function
from owui.agent.pipelines import load_function
from owui.agent.plugins.loaded import Loaded, PluginCache, function_type, load
from owui.agent.routes.common import function_entry, function_model, meta_of
from owui.agent.routes.valves import add_valves_routes
from owui.agent.runtime import RuntimeDep
from owui.agent.schemas import FunctionForm
from owui.core.auth import AdminUser, CurrentUser
from owui.core.service import Session
from owui.core.tokens import Claims

router = APIRouter(prefix="/api/v1/functions", tags=["functions"])


def _checked(form: FunctionForm) -> tuple[Loaded, str]:
    loaded = load("function", form.id, form.content, 0.0)
    return loaded, function_type(loaded.module)[0]


def _meta(form: FunctionForm, loaded: Loaded) -> dict[str, Any]:
    model_ids = form.meta.model_extra.get("model_ids") if form.meta.model_extra else None
    if model_ids is not None and not (isinstance(model_ids, list)
                                      and all(isinstance(m, str) for m in model_ids)):
        raise HTTPException(422, "meta.model_ids must be a list of model ids.")
    return meta_of(form.meta, form.content, loaded)


@router.get("/", summary="Functions (admins see all; users the active ones)")
async def list_functions(user: CurrentUser, session: Session) -> list[dict[str, Any]]:
    rows = await crud.all_functions(session)
    return [function_entry(f) for f in rows if user.is_admin or f.is_active]


@router.get("/list", summary="All functions (admin)")
async def list_all(user: AdminUser, session: Session) -> list[dict[str, Any]]:
    return [{**function_entry(f), "user": None} for f in await crud.all_functions(session)]


@router.post("/create", summary="Create a function from Python source (admin)")
async def create_function(form: FunctionForm, user: AdminUser, session: Session,
                          runtime: RuntimeDep) -> dict[str, Any]:
    if await session.get(Function, form.id) is not None:
        raise HTTPException(409, f"A function with the id '{form.id}' already exists.")
    loaded, kind = _checked(form)
    function = Function(id=form.id, user_id=user.sub, name=form.name, type=kind,
                        content=form.content, meta=_meta(form, loaded), valves={},
                        is_active=False, is_global=False)
    session.add(function)
    await session.commit()
    runtime.functions.invalidate()
    return function_entry(function)


@router.get("/id/{function_id}", summary="A function with its source (admin)")
async def get_function(function_id: str, user: AdminUser, session: Session) -> dict[str, Any]:
    return function_model(await crud.function_for(session, function_id))


@router.post("/id/{function_id}/update", summary="Replace a function's source (admin)")
async def update_function(function_id: str, form: FunctionForm, user: AdminUser,
                          session: Session, runtime: RuntimeDep) -> dict[str, Any]:
    function = await crud.function_for(session, function_id)
    loaded, kind = _checked(form.model_copy(update={"id": function_id}))
    function.name, function.content, function.type = form.name, form.content, kind
    function.meta = _meta(form, loaded)
    crud.touch(function)
    await session.commit()
    runtime.plugins.forget("function", function_id)
    runtime.functions.invalidate()
    return function_model(function)


@router.post("/id/{function_id}/toggle", summary="Turn a function on or off (admin)")
async def toggle(function_id: str, user: AdminUser, session: Session,
                 runtime: RuntimeDep) -> dict[str, Any]:
    function = await crud.function_for(session, function_id)
    function.is_active = not function.is_active
    await session.commit()
    runtime.functions.invalidate()
    return function_model(function)


@router.post("/id/{function_id}/toggle/global", summary="Apply a function to every model (admin)")
async def toggle_global(function_id: str, user: AdminUser, session: Session,
                        runtime: RuntimeDep) -> dict[str, Any]:
    function = await crud.function_for(session, function_id)
    function.is_global = not function.is_global
    await session.commit()
    runtime.functions.invalidate()
    return function_model(function)


@router.delete("/id/{function_id}/delete", summary="Delete a function (admin)")
async def delete_function(function_id: str, user: AdminUser, session: Session,
                          runtime: RuntimeDep) -> bool:
    function = await crud.function_for(session, function_id)
    await session.delete(function)
    await session.commit()
    runtime.plugins.forget("function", function_id)
    runtime.functions.invalidate()
    return True


async def _find(session: AsyncSession, user: Claims, function_id: str) -> Function:
    function = await crud.function_for(session, function_id)
    if not (user.is_admin or function.is_active):
        raise HTTPException(404, f"Function '{function_id}' not found.")
    return function


def _load(cache: PluginCache, function: Function) -> Loaded:
    return load_function(cache, function).loaded


add_valves_routes(router, "function", _find, _load)
