"""A preset's version history (`/api/v1/models/model/history*`) and going back to a version
(`/api/v1/models/model/update/version`). Whoever may use the preset reads its history, without
the params (the system prompt among them) unless they may change it, as `GET /model` answers;
deleting a version or going back to one needs the right to change it. Authors are named for the
caller's own versions only: user names live in the gateway, and the token carries the caller's."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request, status

from owui.core.auth import CurrentUser
from owui.core.errors import error_response, not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.inference import versions
from owui.inference.models import PresetVersion
from owui.inference.presets import can_write
from owui.inference.routes.preset_common import (
    as_model,
    changed,
    check_base,
    readable,
    writable,
)
from owui.inference.runtime import RuntimeDep
from owui.inference.schemas import (
    ModelForm,
    ModelHistoryModel,
    ModelHistoryResponse,
    ModelModel,
    ModelVersionForm,
)

router = APIRouter(prefix="/api/v1/models/model", tags=["models"])
_NOT_FOUND = not_found_response("No such model preset or version (or not yours).")
ModelId = Query(min_length=1, max_length=256)


def _author(entry: PresetVersion, user: Claims) -> dict[str, str] | None:
    return {"name": user.name} if entry.user_id == user.sub and user.name else None


def _listed(entry: PresetVersion, user: Claims) -> ModelHistoryResponse:
    return ModelHistoryResponse(
        id=entry.id, model_id=entry.model_id, parent_id=entry.parent_id, user_id=entry.user_id,
        commit_message=entry.commit_message, created_at=entry.created_at,
        user=_author(entry, user))


@router.get("/history", response_model=list[ModelHistoryResponse], responses=_NOT_FOUND)
async def history(session: Session, user: CurrentUser, id: str = ModelId,
                  page: int = Query(1, ge=1, le=1_000_000)) -> list[ModelHistoryResponse]:
    """The preset's versions, newest first, 20 a page."""
    await readable(session, id, user)
    return [_listed(e, user) for e in await versions.listed(session, id, page)]


@router.get("/history/{history_id}", response_model=ModelHistoryModel, responses=_NOT_FOUND)
async def version(history_id: str, session: Session, user: CurrentUser,
                  id: str = ModelId) -> ModelHistoryModel:
    row = await readable(session, id, user)
    entry = await versions.get(session, id, history_id)
    snapshot = dict(entry.snapshot)
    if not can_write(row, user):  # readers do not see the system prompt and params
        snapshot["params"] = {}
    return ModelHistoryModel(**_listed(entry, user).model_dump(), snapshot=snapshot)


@router.delete("/history/{history_id}", response_model=bool,
               responses={400: error_response("That version is the current one."),
                          **_NOT_FOUND})
async def delete_version(history_id: str, session: Session, user: CurrentUser,
                         id: str = ModelId) -> bool:
    await versions.remove(session, await writable(session, id, user), history_id)
    return True


@router.post("/update/version", response_model=ModelModel,
             responses={400: error_response("The version's base model is not served now."),
                        **_NOT_FOUND})
async def set_version(form: ModelVersionForm, request: Request, session: Session,
                      runtime: RuntimeDep, user: CurrentUser, id: str = ModelId) -> ModelModel:
    """Make an earlier version the preset's configuration again."""
    row = await writable(session, id, user)
    entry = await versions.get(session, id, form.version_id)
    snapshot = entry.snapshot
    if row.base_model_id and not snapshot.get("base_model_id") and not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "That version has no base model: only admins may restore it.")
    await check_base(runtime, ModelForm(id=id, name=str(snapshot.get("name") or row.name),
                                        base_model_id=snapshot.get("base_model_id")))
    versions.restore(row, entry)
    await session.commit()
    await changed(request)
    return as_model(row)
