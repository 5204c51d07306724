"""Open WebUI's `/api/v1/functions`: filters, pipes and actions, managed by admins; active
ones apply to runs (globally, or for the models named in `meta.model_ids`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import crud, history
from owui.agent.models import Function, PluginVersion
from owui.agent.pipelines import load_function
from owui.agent.plugins.loaded import Loaded, PluginCache, function_type, load
from owui.agent.plugins.remote import fetch_source
from owui.agent.routes.common import function_entry, function_model, meta_of
from owui.agent.routes.history import add_history_routes
from owui.agent.routes.valves import add_valves_routes
from owui.agent.runtime import Runtime, RuntimeDep
from owui.agent.schemas import FunctionForm, LoadUrlForm, SyncFunctionsForm
from owui.core.access import Access
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
    kind = function_type(loaded.module)[0]
    instance = loaded.instance
    icon = getattr(instance, "icon_url", None) or getattr(instance, "icon", None)
    derived = {
        # `toggle`: a filter the user turns on and off in the chat (Open WebUI's meta.toggle).
        "toggle": kind == "filter" and bool(getattr(instance, "toggle", False)),
        # What the model list shows of it (inference reads these): the icon its class names,
        # and an action's own buttons when it has several (its `actions`).
        "icon": icon if isinstance(icon, str) else None,
        "actions": _sub_actions(instance) if kind == "action" else None}
    return {**meta_of(form.meta, form.content, loaded), **derived}


def _sub_actions(instance: Any) -> list[dict[str, str]] | None:
    """Open WebUI's `actions = [{"id", "name", "icon_url"}]` of an Action class."""
    items = getattr(instance, "actions", None)
    if not isinstance(items, list):
        return None
    return [{key: str(item[key]) for key in ("id", "name", "icon_url") if item.get(key)}
            for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]


@router.get("/", summary="Functions (admins see all; users the active ones)")
async def list_functions(user: CurrentUser, session: Session) -> list[dict[str, Any]]:
    rows = await crud.all_functions(session)
    return [function_entry(f) for f in rows if user.is_admin or f.is_active]


@router.get("/list", summary="All functions (admin)")
async def list_all(user: AdminUser, session: Session) -> list[dict[str, Any]]:
    return [{**function_entry(f), "user": None} for f in await crud.all_functions(session)]


@router.get("/export", summary="Every function with its source (admin)")
async def export_functions(user: AdminUser, session: Session,
                           include_valves: bool = False) -> list[dict[str, Any]]:
    return [function_model(f, include_valves) for f in await crud.all_functions(session)]


@router.post("/load/url", summary="A function's source read from a URL, for the editor (admin)")
async def load_from_url(form: LoadUrlForm, user: AdminUser, request: Request
                        ) -> dict[str, str]:
    return await fetch_source(request.app.state.http, form.url, "function")


@router.post("/sync", summary="Make the functions exactly these (admin)")
async def sync_functions(form: SyncFunctionsForm, user: AdminUser, session: Session,
                         runtime: RuntimeDep) -> list[dict[str, Any]]:
    # Every source is loaded before anything is written: one that fails changes nothing.
    checked = [(item, *_checked(item.form())) for item in form.functions]
    wanted = {item.id for item in form.functions}
    for row in await crud.all_functions(session):
        if row.id not in wanted:
            await history.forget_item(session, "function", row.id)
            await session.delete(row)
    for item, loaded, kind in checked:
        row = await session.get(Function, item.id)
        if row is None:
            row = Function(id=item.id, user_id=user.sub, name=item.name, type=kind,
                           content=item.content, meta={}, valves={})
            session.add(row)
        before = history.snapshot_of("function", row) if row.meta else None
        row.name, row.content, row.type = item.name, item.content, kind
        row.meta = _meta(item.form(), loaded)
        row.valves = item.valves or {}
        row.is_active, row.is_global = item.is_active, item.is_global
        history.record(session, "function", row, user, before, None)
        crud.touch(row)
    await session.commit()
    for item in form.functions:
        runtime.plugins.forget("function", item.id)
    runtime.functions.invalidate()
    return [function_model(f, True) for f in await crud.all_functions(session)]


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
    history.record(session, "function", function, user, None, form.commit_message)
    await session.commit()
    runtime.functions.invalidate()
    return function_entry(function)


@router.get("/id/{function_id}", summary="A function with its source (admin)")
async def get_function(function_id: str, user: AdminUser, session: Session) -> dict[str, Any]:
    return function_model(await crud.function_for(session, function_id))


async def _save(session: AsyncSession, runtime: Runtime, user: Claims, function: Function,
                form: FunctionForm, version: PluginVersion | None = None) -> dict[str, Any]:
    """The function replaced by `form` (checked first); a new version unless `version` (the
    saved one put back into production) is given."""
    loaded, kind = _checked(form.model_copy(update={"id": function.id}))
    before = history.snapshot_of("function", function)
    function.name, function.content, function.type = form.name, form.content, kind
    function.meta = _meta(form, loaded)
    if version is None:
        history.record(session, "function", function, user, before, form.commit_message)
    else:
        function.version_id = version.id
    crud.touch(function)
    await session.commit()
    runtime.plugins.forget("function", function.id)
    runtime.functions.invalidate()
    return function_model(function)


@router.post("/id/{function_id}/update", summary="Replace a function's source (admin)")
async def update_function(function_id: str, form: FunctionForm, user: AdminUser,
                          session: Session, runtime: RuntimeDep) -> dict[str, Any]:
    function = await crud.function_for(session, function_id)
    return await _save(session, runtime, user, function, form)


async def _restore(session: AsyncSession, runtime: Runtime, user: Claims, function: Function,
                   version: PluginVersion) -> dict[str, Any]:
    form = FunctionForm.model_validate({"id": function.id, **version.snapshot})
    return await _save(session, runtime, user, function, form, version)


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
    await history.forget_item(session, "function", function_id)
    await session.delete(function)
    await session.commit()
    runtime.plugins.forget("function", function_id)
    runtime.functions.invalidate()
    return True


async def _find(session: AsyncSession, user: Access, function_id: str) -> Function:
    function = await crud.function_for(session, function_id)
    if not (user.is_admin or function.is_active):
        raise HTTPException(404, f"Function '{function_id}' not found.")
    return function


async def _admin_find(session: AsyncSession, user: Access, function_id: str) -> Function:
    # A function's code and its versions are the admins' (another user's resource: 404).
    if not user.is_admin:
        raise HTTPException(404, f"Function '{function_id}' not found.")
    return await crud.function_for(session, function_id)


def _admin_writes(user: Access, function: Function) -> bool:
    return user.is_admin


def _load(cache: PluginCache, function: Function) -> Loaded:
    return load_function(cache, function).loaded


add_valves_routes(router, "function", _find, _load, _admin_writes)
add_history_routes(router, "function", _admin_find, _restore)  # type: ignore[arg-type]
