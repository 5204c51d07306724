"""A preset's version history, as Open WebUI keeps it: each save that changes the preset's name,
base model, params or meta stores a snapshot, and the preset names the snapshot it is now
(`version_id`). An older snapshot can be made current again; the current one cannot be deleted."""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.errors import BadRequestError, NotFoundError
from owui.inference.models import Preset, PresetVersion

PAGE_SIZE = 20
SNAPSHOT_KEYS = ("name", "base_model_id", "params", "meta")


def _time_ordered_id() -> str:
    """A UUID whose first 48 bits are the time in milliseconds (UUIDv7's layout): versions
    saved within one second (created_at's unit) still list newest first."""
    millis = time.time_ns() // 1_000_000
    return str(uuid.UUID(int=(millis << 80) | (uuid.uuid4().int & ((1 << 80) - 1))))


def snapshot_of(preset: Preset) -> dict[str, Any]:
    """What a version holds; `meta.hidden` is the preset's state now, not part of a version."""
    data = {key: copy.deepcopy(getattr(preset, key)) for key in SNAPSHOT_KEYS}
    data["params"], data["meta"] = dict(data["params"] or {}), dict(data["meta"] or {})
    data["meta"].pop("hidden", None)
    return data


def record(session: AsyncSession, preset: Preset, user_id: str,
           commit_message: str | None = None) -> PresetVersion:
    """A new version of `preset` as it is now (added to the session), made current."""
    entry = PresetVersion(id=_time_ordered_id(), model_id=preset.id, parent_id=preset.version_id,
                          snapshot=snapshot_of(preset), user_id=user_id,
                          commit_message=commit_message)
    session.add(entry)
    preset.version_id = entry.id
    return entry


async def listed(session: AsyncSession, model_id: str, page: int) -> list[PresetVersion]:
    rows = await session.scalars(
        select(PresetVersion).where(PresetVersion.model_id == model_id)
        .order_by(PresetVersion.created_at.desc(), PresetVersion.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return list(rows)


async def get(session: AsyncSession, model_id: str, version_id: str) -> PresetVersion:
    row = await session.scalar(select(PresetVersion).where(
        PresetVersion.model_id == model_id, PresetVersion.id == version_id))
    if row is None:
        raise NotFoundError(f"Model {model_id!r} has no version {version_id!r}.")
    return row


async def remove(session: AsyncSession, preset: Preset, version_id: str) -> None:
    """Delete one version; its children then follow its parent."""
    if preset.version_id == version_id:
        raise BadRequestError("That version is the model's current one: it cannot be deleted.")
    entry = await get(session, preset.id, version_id)
    await session.execute(update(PresetVersion).where(
        PresetVersion.model_id == preset.id, PresetVersion.parent_id == version_id,
    ).values(parent_id=entry.parent_id))
    await session.delete(entry)
    await session.commit()


def restore(preset: Preset, entry: PresetVersion) -> None:
    """Make `entry` the preset's current configuration (its hidden state and switch kept)."""
    snapshot = copy.deepcopy(entry.snapshot)
    hidden = (preset.meta or {}).get("hidden")
    preset.name = str(snapshot.get("name") or preset.name)
    preset.base_model_id = snapshot.get("base_model_id")
    preset.params = dict(snapshot.get("params") or {})
    meta = dict(snapshot.get("meta") or {})
    if hidden is not None:
        meta["hidden"] = hidden
    preset.meta = meta
    preset.version_id = entry.id


async def forget(session: AsyncSession, model_ids: list[str] | None = None) -> None:
    """The history of deleted presets (all of it when `model_ids` is None); not committed."""
    query = delete(PresetVersion)
    if model_ids is not None:
        query = query.where(PresetVersion.model_id.in_(model_ids))
    await session.execute(query)
