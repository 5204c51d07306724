"""The merged model list, in OpenAI's list shape with Open WebUI's extra fields."""

from __future__ import annotations

from typing import Any

from owui.core.tokens import Claims
from owui.inference.catalog import Listed
from owui.inference.presets import PresetView, can_read, can_write
from owui.inference.runtime import Runtime


def _url_indexes(runtime: Runtime) -> dict[str, int]:
    """Open WebUI's `urlIdx`: a connection's position among its provider's connections."""
    seen: dict[str, int] = {}
    indexes = {}
    for upstream in runtime.catalog.upstreams.values():  # in connection order
        provider = upstream.config.provider
        indexes[upstream.id] = seen.get(provider, 0)
        seen[provider] = indexes[upstream.id] + 1
    return indexes


def _base_entry(listed: Listed, url_indexes: dict[str, int]) -> dict[str, Any]:
    first = listed.upstreams[0]
    provider = first.config.provider
    connection_type = "local" if provider == "ollama" else "external"
    return {
        "id": listed.id, "object": "model", "created": listed.model.created,
        "owned_by": provider, "name": listed.id, "provider": provider,
        "connection": first.id, "connections": [u.id for u in listed.upstreams],
        "connection_type": connection_type, "urlIdx": url_indexes.get(first.id, 0),
        # The action and filter functions on the model: model_list fills them in.
        "actions": [], "filters": [], "tags": [{"name": tag} for tag in first.config.tags],
        provider: {**listed.model.raw, "connection_type": connection_type},
    }


def preset_info(preset: PresetView, user: Claims) -> dict[str, Any]:
    """Open WebUI's model record; a reader who may not change it does not see its params."""
    return {"id": preset.id, "user_id": preset.user_id, "base_model_id": preset.base_model_id,
            "name": preset.name, "params": preset.params if can_write(preset, user) else {},
            "meta": preset.meta, "access_grants": preset.access_grants,
            "is_active": preset.is_active, "created_at": preset.created_at,
            "updated_at": preset.updated_at}


def _preset_entry(preset: PresetView, base: dict[str, Any], user: Claims) -> dict[str, Any]:
    tags = preset.meta.get("tags")
    entry = {**base, "id": preset.id, "name": preset.name, "created": preset.created_at,
             "info": preset_info(preset, user), "tags": tags if isinstance(tags, list) else []}
    if preset.base_model_id:
        entry["preset"] = True
    return entry


def _connections(runtime: Runtime, user: Claims) -> list[dict[str, Any]]:
    out = []
    for upstream in runtime.catalog.enabled():
        item: dict[str, Any] = {"id": upstream.id, "provider": upstream.config.provider,
                                "name": upstream.config.name, "status": upstream.status}
        if user.is_admin:
            item["url"], item["error"] = upstream.base, upstream.error
        out.append(item)
    return out


async def base_models(runtime: Runtime, refresh: bool = False) -> dict[str, dict[str, Any]]:
    """The providers' models, by id, without presets (Open WebUI's base models)."""
    runtime.sync_soon()
    await runtime.catalog.refresh(force=refresh)
    url_indexes = _url_indexes(runtime)
    return {listed.id: _base_entry(listed, url_indexes) for listed in runtime.catalog.listing()}


async def model_list(runtime: Runtime, user: Claims, token: str,
                     refresh: bool) -> dict[str, Any]:
    entries = await base_models(runtime, refresh)
    functions = await runtime.functions.current(token)
    on_every_model = functions.on_model(None)
    for entry in entries.values():
        entry.update(on_every_model)
    presets = await runtime.presets.current()
    for preset in presets.values():
        base = entries.get(preset.base)
        if base is None or not preset.is_active or not can_read(preset, user):
            continue
        # With no base model id, the record renames the base model of its own id.
        entries[preset.id] = {**_preset_entry(preset, base, user),
                              **functions.on_model(preset.meta)}
    return {"object": "list", "data": list(entries.values()),
            "connections": _connections(runtime, user)}

