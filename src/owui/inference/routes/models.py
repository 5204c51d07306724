"""Open WebUI's model routes: the merged list (`/api/models`, `/api/v1/models`) and workspace
models, i.e. presets (`/api/v1/models/*`), with Open WebUI's paths and shapes.

Presets nobody may see answer 404, as DESIGN.md asks (Open WebUI answers 401).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from owui.core.auth import AdminUser, CurrentUser
from owui.core.errors import error_response, not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.inference import crud
from owui.inference.listing import model_list
from owui.inference.models import Preset
from owui.inference.presets import can_read, can_write
from owui.inference.runtime import RuntimeDep, runtime_of
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
PAGE_SIZE = 30


async def merged_models(runtime: RuntimeDep, user: CurrentUser,
                        refresh: bool = False) -> JSONResponse:
    """Every model the caller may use (provider models and presets), as Open WebUI lists them."""
    return JSONResponse(await model_list(runtime, user, refresh))


for path in ("/api/models", "/api/v1/models"):
    router.add_api_route(path, merged_models, methods=["GET"], summary="Get Models")


def _model(row: Preset) -> ModelModel:
    return ModelModel.model_validate(row, from_attributes=True)


def _access(row: Preset, user: Claims) -> ModelAccessResponse:
    writable = can_write(row, user)
    data = _model(row).model_dump()
    if not writable:  # readers do not see the system prompt and params
        data["params"] = {}
    return ModelAccessResponse(**data, write_access=writable)


async def _readable(session: Session, model_id: str, user: Claims) -> Preset:
    row = await crud.get_preset(session, model_id)
    if row is None or not can_read(row, user):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No model {model_id!r}.")
    return row


async def _writable(session: Session, model_id: str, user: Claims) -> Preset:
    row = await _readable(session, model_id, user)
    if not can_write(row, user):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"Model {model_id!r} is shared with you read-only.")
    return row


async def _changed(request: Request) -> None:
    await (await runtime_of(request)).presets.reload()


def _check_grants(form_grants: list[object] | None, user: Claims) -> None:
    if form_grants and not user.is_admin and any(
            getattr(g, "permission", None) == "write" and getattr(g, "principal_id", "") == "*"
            for g in form_grants):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "access_grants: only admins may let everyone change a model.")


@router.get("/api/v1/models/list", response_model=ModelAccessListResponse)
async def list_presets(
    session: Session, user: CurrentUser, query: str | None = None,
    view_option: str | None = Query(default=None, pattern="^(created|shared)?$"),
    page: int = Query(1, ge=1, le=1_000_000),  # the offset must fit a database integer
) -> ModelAccessListResponse:
    """The presets the caller may see; `view_option` created (own) or shared (others')."""
    rows = [r for r in await crud.list_presets(session) if can_read(r, user)]
    if query:
        needle = query.lower()
        rows = [r for r in rows if needle in r.name.lower() or needle in r.id.lower()]
    if view_option == "created":
        rows = [r for r in rows if r.user_id == user.sub]
    elif view_option == "shared":
        rows = [r for r in rows if r.user_id != user.sub]
    chunk = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return ModelAccessListResponse(items=[_access(r, user) for r in chunk], total=len(rows))


@router.get("/api/v1/models/all", response_model=list[ModelModel])
async def all_presets(session: Session, _admin: AdminUser) -> list[ModelModel]:
    return [_model(r) for r in await crud.list_presets(session)]


@router.get("/api/v1/models/tags", response_model=list[str])
async def preset_tags(session: Session, user: CurrentUser) -> list[str]:
    names: set[str] = set()
    for row in await crud.list_presets(session):
        if can_read(row, user):
            for tag in (row.meta or {}).get("tags") or []:
                name = tag.get("name") if isinstance(tag, dict) else tag
                if name:
                    names.add(str(name))
    return sorted(names)


@router.post("/api/v1/models/create", response_model=ModelModel,
             responses={409: error_response("A model preset with this id exists.")})
async def create_preset(form: ModelForm, request: Request, session: Session,
                        user: CurrentUser) -> ModelModel:
    if await crud.get_preset(session, form.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"Model id {form.id!r} is taken.")
    _check_grants(form.access_grants, user)  # type: ignore[arg-type]
    row = await crud.create_preset(session, form, user.sub)
    await _changed(request)
    return _model(row)


@router.get("/api/v1/models/model", response_model=ModelAccessResponse, responses=_NO_PRESET)
async def get_preset(session: Session, user: CurrentUser,
                     id: str = Query(min_length=1)) -> ModelAccessResponse:
    return _access(await _readable(session, id, user), user)


@router.post("/api/v1/models/model/update", response_model=ModelModel, responses=_NO_PRESET)
async def update_preset(form: ModelForm, request: Request, session: Session,
                        user: CurrentUser) -> ModelModel:
    row = await _writable(session, form.id, user)
    _check_grants(form.access_grants, user)  # type: ignore[arg-type]
    row = await crud.update_preset(session, row, form)
    await _changed(request)
    return _model(row)


@router.post("/api/v1/models/model/access/update", response_model=ModelModel,
             responses=_NO_PRESET)
async def update_preset_access(form: ModelAccessGrantsForm, request: Request, session: Session,
                               user: CurrentUser) -> ModelModel:
    row = await _writable(session, form.id, user)
    _check_grants(form.access_grants, user)  # type: ignore[arg-type]
    row.access_grants = crud.grants(row.id, form.access_grants)
    await session.commit()
    await _changed(request)
    return _model(row)


@router.post("/api/v1/models/model/toggle", response_model=ModelModel, responses=_NO_PRESET)
async def toggle_preset(request: Request, session: Session, user: CurrentUser,
                        id: str = Query(min_length=1)) -> ModelModel:
    row = await _writable(session, id, user)
    row.is_active = not row.is_active
    await session.commit()
    await _changed(request)
    return _model(row)


@router.post("/api/v1/models/model/delete", responses=_NO_PRESET)
async def delete_preset(form: ModelIdForm, request: Request, session: Session,
                        user: CurrentUser) -> bool:
    await crud.delete_preset(session, await _writable(session, form.id, user))
    await _changed(request)
    return True


@router.delete("/api/v1/models/delete/all")
async def delete_all_presets(request: Request, session: Session, _admin: AdminUser) -> bool:
    await crud.delete_all_presets(session)
    await _changed(request)
    return True
