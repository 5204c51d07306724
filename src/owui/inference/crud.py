"""Reads and writes of connections, presets and the service's own state."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.config import Settings
from owui.inference import versions
from owui.inference.models import Connection, Preset, State
from owui.inference.schemas import AccessGrantForm, ConnectionForm, ConnectionUpdate, ModelForm
from owui.inference.upstreams import ConnectionConfig

SEEDED = "connections_seeded"


def config_of(row: Connection) -> ConnectionConfig:
    options = row.options or {}
    model_ids = tuple(str(m) for m in options.get("model_ids") or [] if m)
    tags = tuple(str(t.get("name") if isinstance(t, dict) else t)
                 for t in options.get("tags") or [] if t)
    return ConnectionConfig(row.id, row.provider, row.url, row.api_key, row.name, row.prefix_id,
                            row.enabled, row.position, model_ids, tags)


async def list_connections(session: AsyncSession) -> list[Connection]:
    rows = await session.scalars(select(Connection).order_by(Connection.position,
                                                             Connection.created_at))
    return list(rows)


async def get_connection(session: AsyncSession, connection_id: str) -> Connection | None:
    return await session.get(Connection, connection_id)


def env_connections(settings: Settings) -> list[ConnectionForm]:
    """The initial set: Open WebUI's variables, keys paired with URLs by position."""
    forms: list[ConnectionForm] = []
    if settings.enable_ollama_api:
        forms += [ConnectionForm(provider="ollama", url=url) for url in settings.ollama_base_urls]
    if settings.enable_openai_api:
        keys = settings.openai_api_keys
        forms += [ConnectionForm(provider="openai", url=url,
                                 api_key=keys[i] if i < len(keys) and keys[i] else None)
                  for i, url in enumerate(settings.openai_api_base_urls)]
    return forms


async def seed_connections(session: AsyncSession, settings: Settings) -> None:
    """Store the environment's connections on the first start; after that the database
    (and the admins who change it) decide."""
    if await session.get(State, SEEDED) is not None:
        return
    for form in env_connections(settings):
        await add_connection(session, form, source="env", commit=False)
    session.add(State(key=SEEDED, value=str(int(time.time()))))
    await session.commit()


async def add_connection(session: AsyncSession, form: ConnectionForm, *, source: str = "admin",
                         commit: bool = True) -> Connection:
    position = await session.scalar(select(func.coalesce(func.max(Connection.position), -1)))
    row = Connection(provider=form.provider, url=form.url, api_key=form.api_key or None,
                     name=form.name, prefix_id=form.prefix_id, enabled=form.enabled,
                     source=source, position=int(position or 0) + 1)
    session.add(row)
    await session.flush()
    if commit:
        await session.commit()
    return row


async def update_connection(session: AsyncSession, row: Connection,
                            form: ConnectionUpdate) -> Connection:
    changes = form.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if key in ("api_key", "prefix_id") and value == "":
            value = None
        setattr(row, key, value)
    if changes:
        row.source = "admin"
    await session.commit()
    return row


async def delete_connection(session: AsyncSession, row: Connection) -> None:
    await session.delete(row)
    await session.commit()


# Presets


def grants(model_id: str, forms: list[AccessGrantForm] | None) -> list[dict[str, Any]]:
    now = int(time.time())
    return [{"id": str(uuid.uuid4()), "resource_type": "model", "resource_id": model_id,
             **form.model_dump(), "created_at": now} for form in forms or []]


async def get_preset(session: AsyncSession, model_id: str) -> Preset | None:
    return await session.get(Preset, model_id)


def new_preset(session: AsyncSession, form: ModelForm, user_id: str) -> Preset:
    """A preset and its first version, added to the session (not committed)."""
    row = Preset(id=form.id, user_id=user_id, base_model_id=form.base_model_id, name=form.name,
                 params=form.params, meta=form.meta,
                 access_grants=grants(form.id, form.access_grants), is_active=form.is_active)
    session.add(row)
    versions.record(session, row, user_id, form.commit_message)
    return row


async def create_preset(session: AsyncSession, form: ModelForm, user_id: str) -> Preset:
    row = new_preset(session, form, user_id)
    await session.commit()
    return row


def change_preset(session: AsyncSession, row: Preset, form: ModelForm, user_id: str) -> None:
    """The form applied to `row`, with a new version when the configuration changed."""
    before = versions.snapshot_of(row)
    row.base_model_id = form.base_model_id
    row.name = form.name
    row.params = form.params
    row.meta = form.meta
    if "is_active" in form.model_fields_set:  # left out: a switched-off preset stays off
        row.is_active = form.is_active
    if form.access_grants is not None:  # left out: sharing stays as it was
        row.access_grants = grants(row.id, form.access_grants)
    row.updated_at = int(time.time())
    if versions.snapshot_of(row) != before or row.version_id is None:
        versions.record(session, row, user_id, form.commit_message)


async def update_preset(session: AsyncSession, row: Preset, form: ModelForm,
                        user_id: str | None = None) -> Preset:
    change_preset(session, row, form, user_id or row.user_id)
    await session.commit()
    return row


async def list_presets(session: AsyncSession) -> list[Preset]:
    rows = await session.scalars(select(Preset).order_by(Preset.updated_at.desc(), Preset.id))
    return list(rows)



async def presets_by_id(session: AsyncSession, ids: list[str]) -> dict[str, Preset]:
    if not ids:
        return {}
    rows = await session.scalars(select(Preset).where(Preset.id.in_(ids)))
    return {row.id: row for row in rows}


async def forget_presets(session: AsyncSession, rows: list[Preset]) -> None:
    """Delete `rows` and their history (not committed)."""
    await versions.forget(session, [row.id for row in rows])
    for row in rows:
        await session.delete(row)


async def delete_preset(session: AsyncSession, row: Preset) -> None:
    await versions.forget(session, [row.id])
    await session.delete(row)
    await session.commit()


async def delete_all_presets(session: AsyncSession) -> None:
    await versions.forget(session)
    await session.execute(delete(Preset))
    await session.commit()
