"""What the preset routes share: the caller's right to read or change a preset, the base-model
check, and telling every replica that presets changed."""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from owui.core.service import Session
from owui.core.tokens import Claims
from owui.inference import crud, live
from owui.inference.models import Preset
from owui.inference.presets import can_read, can_write
from owui.inference.runtime import Runtime, runtime_of
from owui.inference.schemas import ModelForm, ModelModel


def as_model(row: Preset) -> ModelModel:
    return ModelModel.model_validate(row, from_attributes=True)


async def readable(session: Session, model_id: str, user: Claims) -> Preset:
    row = await crud.get_preset(session, model_id)
    if row is None or not can_read(row, user):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No model {model_id!r}.")
    return row


async def writable(session: Session, model_id: str, user: Claims) -> Preset:
    row = await readable(session, model_id, user)
    if not can_write(row, user):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"Model {model_id!r} is shared with you read-only.")
    return row


async def changed(request: Request) -> None:
    """Read the presets again here at once, and on the other replicas within seconds."""
    runtime = await runtime_of(request)
    await runtime.presets.reload()
    await live.announce(runtime, live.PRESETS)


async def check_base(runtime: Runtime, form: ModelForm) -> None:
    """A preset runs on a model some connection serves now (a preset is no base)."""
    base = form.base_model_id
    if not base:
        return
    if base == form.id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "base_model_id: a model cannot be its own base model.")
    if not await runtime.catalog.targets(base):
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"base_model_id: {base!r} is not served by any connection now; "
                            "GET /api/models/base lists the models that are.")
