"""Open WebUI's model routes: the merged list (`/api/models`, `/api/v1/models`), the providers'
base models, and workspace models, i.e. presets (`/api/v1/models/*`), with Open WebUI's paths
and shapes.

Presets nobody may see answer 404, as DESIGN.md asks (Open WebUI answers 401). A record with no
base model is Open WebUI's "base model" entry (an admin's settings for a provider's model): it
is listed under `/api/v1/models/base`, not among the workspace's presets.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from owui.core.access import current_access, require_permission
from owui.core.auth import AdminUser, CurrentUser, UserToken
from owui.core.errors import error_response, not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.inference import crud
from owui.inference.listing import base_models, model_list
from owui.inference.models import Preset
from owui.inference.presets import can_read, can_write, check_sharing
from owui.inference.routes.preset_common import (
    as_model,
    changed,
    check_base,
    readable,
    writable,
)
from owui.inference.runtime import RuntimeDep
from owui.inference.schemas import (
    ModelAccessGrantsForm,
    ModelAccessListResponse,
    ModelAccessResponse,
    ModelForm,
    ModelIdForm,
    ModelModel,
)

router = APIRouter(tags=["models"])
_NO_PRESET = not_found_response("No such model preset (or not yours).")
_BAD_BASE = {400: error_response("The base model is not served by any connection now."),
             **_NO_PRESET}
PAGE_SIZE = 30
ORDERS = {"name": lambda r: r.name.lower(), "created_at": lambda r: r.created_at,
          "updated_at": lambda r: r.updated_at}


async def merged_models(runtime: RuntimeDep, user: CurrentUser, token: UserToken,
                        refresh: bool = False) -> JSONResponse:
    """Every model the caller may use (provider models and presets), as Open WebUI lists them."""
    return JSONResponse(await model_list(runtime, user, token, refresh))


for path in ("/api/models", "/api/v1/models"):
    router.add_api_route(path, merged_models, methods=["GET"], summary="Get Models")


@router.get("/api/models/base", summary="The providers' models, without presets (admin)")
async def provider_models(runtime: RuntimeDep, _admin: AdminUser) -> JSONResponse:
    return JSONResponse({"data": list((await base_models(runtime)).values())})


def _access(row: Preset, user: Claims) -> ModelAccessResponse:
    writable_ = can_write(row, user)
    data = as_model(row).model_dump()
    if not writable_:  # readers do not see the system prompt and params
        data["params"] = {}
    return ModelAccessResponse(**data, write_access=writable_)


def _tag_names(row: Preset) -> list[str]:
    names = []
    for tag in (row.meta or {}).get("tags") or []:
        name = tag.get("name") if isinstance(tag, dict) else tag
        if name:
            names.append(str(name))
    return names


def _has_tag(row: Preset, tag: str | None) -> bool:
    return not tag or tag.lower() in (name.lower() for name in _tag_names(row))


@router.get("/api/v1/models/list", response_model=ModelAccessListResponse)
async def list_presets(
    session: Session, user: CurrentUser, query: str | None = None,
    view_option: str | None = Query(default=None, pattern="^(created|shared)?$"),
    tag: str | None = None,
    order_by: Literal["name", "created_at", "updated_at"] | None = None,
    direction: Literal["asc", "desc"] | None = None,
    page: int = Query(1, ge=1, le=1_000_000),  # the offset must fit a database integer
) -> ModelAccessListResponse:
    """The presets the caller may see; `view_option` created (own) or shared (others')."""
    rows = [r for r in await crud.list_presets(session)
            if r.base_model_id and can_read(r, user) and _has_tag(r, tag)]
    if query:
        needle = query.lower()
        rows = [r for r in rows if needle in r.name.lower() or needle in r.id.lower()
                or needle in (r.base_model_id or "").lower()]
    if view_option == "created":
        rows = [r for r in rows if r.user_id == user.sub]
    elif view_option == "shared":
        rows = [r for r in rows if r.user_id != user.sub]
    if order_by:
        rows.sort(key=ORDERS[order_by], reverse=direction != "asc")
    chunk = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return ModelAccessListResponse(items=[_access(r, user) for r in chunk], total=len(rows))


@router.get("/api/v1/models/all", response_model=list[ModelModel])
async def all_presets(session: Session, _admin: AdminUser) -> list[ModelModel]:
    return [as_model(r) for r in await crud.list_presets(session)]


@router.get("/api/v1/models/base", response_model=list[ModelModel],
            summary="Records of the providers' models (no base model of their own; admin)")
async def base_records(session: Session, _admin: AdminUser,
                       tag: str | None = None) -> list[ModelModel]:
    return [as_model(r) for r in await crud.list_presets(session)
            if not r.base_model_id and _has_tag(r, tag)]


@router.get("/api/v1/models/base/tags", response_model=list[str])
async def base_record_tags(session: Session, _admin: AdminUser) -> list[str]:
    return sorted({name for r in await crud.list_presets(session) if not r.base_model_id
                   for name in _tag_names(r)})


@router.get("/api/v1/models/tags", response_model=list[str])
async def preset_tags(session: Session, user: CurrentUser) -> list[str]:
    return sorted({name for r in await crud.list_presets(session)
                   if r.base_model_id and can_read(r, user) for name in _tag_names(r)})


@router.post("/api/v1/models/create", response_model=ModelModel,
             responses={409: error_response("A model preset with this id exists."),
                        **_BAD_BASE},
             dependencies=[Depends(require_permission("workspace.models"))])
async def create_preset(form: ModelForm, request: Request, session: Session,
                        runtime: RuntimeDep, user: CurrentUser) -> ModelModel:
    if await crud.get_preset(session, form.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"Model id {form.id!r} is taken.")
    check_sharing(form.access_grants, current_access(request))
    if not form.base_model_id and not user.is_admin:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "base_model_id: a model needs a base model (only admins keep "
                            "records of the providers' own models).")
    await check_base(runtime, form)
    row = await crud.create_preset(session, form, user.sub)
    await changed(request)
    return as_model(row)


@router.get("/api/v1/models/model", response_model=ModelAccessResponse, responses=_NO_PRESET)
async def get_preset(session: Session, user: CurrentUser,
                     id: str = Query(min_length=1)) -> ModelAccessResponse:
    return _access(await readable(session, id, user), user)


@router.post("/api/v1/models/model/update", response_model=ModelModel, responses=_BAD_BASE)
async def update_preset(form: ModelForm, request: Request, session: Session,
                        runtime: RuntimeDep, user: CurrentUser) -> ModelModel:
    row = await writable(session, form.id, user)
    check_sharing(form.access_grants, current_access(request), row.access_grants)
    if form.base_model_id != row.base_model_id:
        if row.base_model_id and not form.base_model_id and not user.is_admin:
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                "base_model_id: only admins may clear a model's base model.")
        await check_base(runtime, form)
    row = await crud.update_preset(session, row, form, user.sub)
    await changed(request)
    return as_model(row)


@router.post("/api/v1/models/model/access/update", response_model=ModelModel,
             responses=_NO_PRESET)
async def update_preset_access(form: ModelAccessGrantsForm, request: Request, session: Session,
                               user: CurrentUser) -> ModelModel:
    row = await writable(session, form.id, user)
    check_sharing(form.access_grants, current_access(request), row.access_grants)
    row.access_grants = crud.grants(row.id, form.access_grants)
    await session.commit()
    await changed(request)
    return as_model(row)


@router.post("/api/v1/models/model/toggle", response_model=ModelModel, responses=_NO_PRESET)
async def toggle_preset(request: Request, session: Session, user: CurrentUser,
                        id: str = Query(min_length=1)) -> ModelModel:
    row = await writable(session, id, user)
    row.is_active = not row.is_active
    await session.commit()
    await changed(request)
    return as_model(row)


@router.post("/api/v1/models/model/delete", responses=_NO_PRESET)
async def delete_preset(form: ModelIdForm, request: Request, session: Session,
                        user: CurrentUser) -> bool:
    await crud.delete_preset(session, await writable(session, form.id, user))
    await changed(request)
    return True


@router.delete("/api/v1/models/delete/all")
async def delete_all_presets(request: Request, session: Session, _admin: AdminUser) -> bool:
    await crud.delete_all_presets(session)
    await changed(request)
    return True
