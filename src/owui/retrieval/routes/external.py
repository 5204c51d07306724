"""The admin's external knowledge connections (Open WebUI 0.12: a Qdrant, Milvus or pgvector
that holds documents indexed elsewhere): listed, added, read, changed, deleted and checked,
kept in the live config (every replica sees a change within about a second). Their secrets
(`auth_config`) are stored but never shown: an answer says only whether one is set.

Collections backed by a connection (`/external/knowledge/create`, `/external/source/*`) are
not served: owui searches only what it indexed itself."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select

from owui.core.auth import AdminUser
from owui.core.errors import BadRequestError
from owui.core.service import Session
from owui.retrieval.live import EXTERNAL_CONNECTIONS
from owui.retrieval.models import Knowledge
from owui.retrieval.routes.settings import store
from owui.retrieval.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/api/v1/knowledge/external", tags=["knowledge"])
PROVIDERS = ("qdrant", "milvus", "pgvector")
MAX_CONNECTIONS = 100


class ConnectionForm(BaseModel):
    name: str = Field(max_length=200)
    provider: str = Field(max_length=32)
    endpoint: str = Field(max_length=2000)
    auth_config: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    capabilities: dict[str, Any] | None = None
    enabled: bool = True


def _checked(form: ConnectionForm) -> tuple[str, dict[str, Any]]:
    """(the provider, the config keys it takes), or 400 naming what is wrong."""
    provider = form.provider.strip().lower()
    if provider not in PROVIDERS:
        raise BadRequestError(f"Unsupported external knowledge provider {form.provider!r}: "
                              f"one of {', '.join(PROVIDERS)}.")
    if not form.name.strip():
        raise BadRequestError("Knowledge source name is required.")
    if not form.endpoint.strip():
        raise BadRequestError("Knowledge source endpoint is required.")
    allowed = {"timeout", *(("db_name",) if provider == "milvus" else ())}
    return provider, {k: v for k, v in (form.config or {}).items() if k in allowed}


def _auth(provider: str, given: dict[str, Any] | None,
          kept: dict[str, Any] | None = None) -> dict[str, Any]:
    """pgvector takes its credentials in the endpoint; a change that sends none keeps them."""
    if provider == "pgvector":
        return {}
    return (kept or {}) if given is None else given


def _shown(connection: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in connection.items() if k != "auth_config"}
    shown["auth_configured"] = bool(connection.get("auth_config"))
    return shown


def _all(rt: Runtime) -> list[dict[str, Any]]:
    return list(rt.config.snapshot().get(EXTERNAL_CONNECTIONS) or [])


def _one(rt: Runtime, connection_id: str) -> tuple[int, dict[str, Any]]:
    for index, connection in enumerate(_all(rt)):
        if connection.get("id") == connection_id:
            return index, connection
    raise HTTPException(404, f"External connection '{connection_id}' not found.")


@router.get("/connections")
async def list_connections(user: AdminUser, rt: RuntimeDep) -> dict[str, Any]:
    connections = [_shown(c) for c in _all(rt)]
    return {"items": connections, "total": len(connections)}


@router.post("/connections")
async def create_connection(form: ConnectionForm, user: AdminUser,
                            rt: RuntimeDep) -> dict[str, Any]:
    provider, config = _checked(form)
    connections = _all(rt)
    if len(connections) >= MAX_CONNECTIONS:
        raise BadRequestError(f"At most {MAX_CONNECTIONS} external connections.")
    now = int(time.time())
    connection = {"id": str(uuid.uuid4()), "name": form.name.strip(), "provider": provider,
                  "endpoint": form.endpoint.strip(),
                  "auth_config": _auth(provider, form.auth_config), "config": config,
                  "capabilities": form.capabilities or {"retrieve": True}, "health": None,
                  "enabled": form.enabled, "created_by": user.sub, "created_at": now,
                  "updated_at": now}
    await store(rt, {EXTERNAL_CONNECTIONS: [*connections, connection]})
    return _shown(connection)


@router.get("/connections/{connection_id}")
async def get_connection(connection_id: str, user: AdminUser,
                         rt: RuntimeDep) -> dict[str, Any]:
    return _shown(_one(rt, connection_id)[1])


@router.patch("/connections/{connection_id}")
async def update_connection(connection_id: str, form: ConnectionForm, user: AdminUser,
                            rt: RuntimeDep) -> dict[str, Any]:
    index, existing = _one(rt, connection_id)
    provider, config = _checked(form)
    connection = {**existing, "name": form.name.strip(), "provider": provider,
                  "endpoint": form.endpoint.strip(),
                  "auth_config": _auth(provider, form.auth_config, existing.get("auth_config")),
                  "config": config, "capabilities": form.capabilities or {"retrieve": True},
                  "enabled": form.enabled, "updated_at": int(time.time())}
    connections = _all(rt)
    connections[index] = connection
    await store(rt, {EXTERNAL_CONNECTIONS: connections})
    return _shown(connection)


@router.delete("/connections/{connection_id}")
async def delete_connection(connection_id: str, user: AdminUser, session: Session,
                            rt: RuntimeDep) -> bool:
    _one(rt, connection_id)
    metas = await session.scalars(select(Knowledge.meta).where(Knowledge.meta.is_not(None)))
    if any(((m or {}).get("external") or {}).get("connection_id") == connection_id
           for m in metas):
        raise BadRequestError("External connection is still used by knowledge bases.")
    await store(rt, {EXTERNAL_CONNECTIONS: [c for c in _all(rt)
                                            if c.get("id") != connection_id]})
    return True


@router.post("/connections/{connection_id}/test")
async def test_connection(connection_id: str, user: AdminUser,
                          rt: RuntimeDep) -> dict[str, Any]:
    """As Open WebUI's: whether it is enabled and has an endpoint (no call is made), kept as
    the connection's `health`."""
    index, connection = _one(rt, connection_id)
    health = {"ok": bool(connection.get("enabled") and connection.get("endpoint")),
              "provider": connection.get("provider"), "checked_at": int(time.time())}
    connections = _all(rt)
    connections[index] = {**connection, "health": health, "updated_at": int(time.time())}
    await store(rt, {EXTERNAL_CONNECTIONS: connections})
    return health
