"""Presets exported, imported and synced in Open WebUI's shapes. An import is checked whole
before anything is written, then written in one transaction: a bad entry stores nothing."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.access import Access
from owui.core.errors import BadRequestError, ConflictError, InvalidError, NotFoundError
from owui.inference import crud
from owui.inference.models import Preset
from owui.inference.presets import can_write, check_sharing
from owui.inference.schemas import ModelForm


async def exported(session: AsyncSession, user: Access, ids: list[str] | None) -> list[Preset]:
    """The presets the caller may change (all of them, or those of `ids`, every one of which
    must be there)."""
    rows = [r for r in await crud.list_presets(session) if can_write(r, user)]
    if ids is None:
        return rows
    found = {r.id: r for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFoundError(f"No model {missing[0]!r} (or not yours to export).")
    return [found[i] for i in dict.fromkeys(ids)]


def _form(index: int, item: dict[str, Any], existing: Preset | None) -> ModelForm:
    data = dict(item)
    if existing is not None:  # meta merged over the stored one, params replaced
        data = {"base_model_id": existing.base_model_id, "name": existing.name,
                "is_active": existing.is_active, **data,
                "meta": {**(existing.meta or {}), **(item.get("meta") or {})}}
    data.setdefault("meta", {})
    data.setdefault("params", {})
    if data.get("base_model_id") == data.get("id"):  # never stored: a model is not its own base
        data["base_model_id"] = None
    try:
        return ModelForm.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidError(f"models[{index}].{where}: {first['msg']}") from None


def _allowed(index: int, form: ModelForm, existing: Preset | None, who: Access) -> None:
    if existing is not None and not can_write(existing, who):
        raise ConflictError(f"models[{index}]: the model id {form.id!r} is taken.")
    if not who.is_admin and not form.base_model_id:
        raise BadRequestError(f"models[{index}] ({form.id!r}) has no base model: only admins "
                              "keep records of the providers' own models.")
    check_sharing(form.access_grants, who, existing.access_grants if existing else None)


async def import_presets(session: AsyncSession, items: list[dict[str, Any]],
                         who: Access) -> list[str]:
    """Create or update every entry, or none; the ids written."""
    ids = [item.get("id") for item in items]
    if len(set(map(str, ids))) != len(ids):
        raise BadRequestError("models: an id appears twice.")
    stored = await crud.presets_by_id(session, [i for i in ids if isinstance(i, str)])
    forms = []
    for index, item in enumerate(items):
        existing = stored.get(str(item.get("id")))
        form = _form(index, item, existing)
        _allowed(index, form, existing, who)
        forms.append((form, existing))
    for form, existing in forms:
        if existing is None:
            crud.new_preset(session, form, who.user_id)
        else:
            crud.change_preset(session, existing, form, who.user_id)
    await session.commit()
    return [form.id for form, _ in forms]


async def sync_presets(session: AsyncSession, forms: list[ModelForm],
                       user_id: str) -> list[Preset]:
    """Make the stored presets exactly `forms` (an admin's restore of a whole set)."""
    if len({f.id for f in forms}) != len(forms):
        raise BadRequestError("models: an id appears twice.")
    stored = {r.id: r for r in await crud.list_presets(session)}
    written = []
    for form in forms:
        existing = stored.pop(form.id, None)
        if existing is None:
            written.append(crud.new_preset(session, form, user_id))
        else:
            crud.change_preset(session, existing, form, user_id)
            written.append(existing)
    await crud.forget_presets(session, list(stored.values()))
    await session.commit()
    return written
