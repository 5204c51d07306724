"""The admin's external knowledge (Open WebUI 0.12): connections to a Qdrant, Milvus or pgvector
(or, owui's addition, a Chroma server) that holds documents indexed elsewhere, listed, added,
read, changed, deleted and checked, kept in the live config (every replica sees a change
within about a second). Their secrets (`auth_config`) are stored but never shown: an answer
says only whether one is set.

A source is a collection of such a store; a knowledge collection made on it
(`/external/knowledge/create`, or `/external/source/create` with a new connection, after a test
query found something) is searched there (retrieval/external/) whenever it is searched: in a
chat, `#` it like any other. It is read-only (no files). Everything here is admin-only, as in
Open WebUI; the collection is the admin's, private until shared."""

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
from owui.retrieval.external import connections
from owui.retrieval.live import EXTERNAL_CONNECTIONS
from owui.retrieval.models import Knowledge
from owui.retrieval.routes.settings import store
from owui.retrieval.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/api/v1/knowledge/external", tags=["knowledge"])
PROVIDERS = ("qdrant", "milvus", "pgvector", "chroma")
MAX_CONNECTIONS = 100


class ConnectionForm(BaseModel):
    name: str = Field(max_length=200)
    provider: str = Field(max_length=32)
    endpoint: str = Field(max_length=2000)
    auth_config: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    capabilities: dict[str, Any] | None = None
    enabled: bool = True


def checked(form: ConnectionForm) -> tuple[str, dict[str, Any]]:
    """(the provider, the config keys it takes), or 400 naming what is wrong."""
    provider = form.provider.strip().lower()
    if provider not in PROVIDERS:
        raise BadRequestError(f"Unsupported external knowledge provider {form.provider!r}: "
                              f"one of {', '.join(PROVIDERS)}.")
    if not form.name.strip():
        raise BadRequestError("Knowledge source name is required.")
    if not form.endpoint.strip():
        raise BadRequestError("Knowledge source endpoint is required.")
    allowed = {"timeout", *(("db_name",) if provider in ("milvus", "chroma") else ())}
    return provider, {k: v for k, v in (form.config or {}).items() if k in allowed}


def _auth(provider: str, given: dict[str, Any] | None,
          kept: dict[str, Any] | None = None) -> dict[str, Any]:
    """pgvector takes its credentials in the endpoint; a change that sends none keeps them."""
    if provider == "pgvector":
        return {}
    return (kept or {}) if given is None else given


def new_connection(form: ConnectionForm, user_id: str) -> dict[str, Any]:
    provider, config = checked(form)
    now = int(time.time())
    return {"id": str(uuid.uuid4()), "name": form.name.strip(), "provider": provider,
            "endpoint": form.endpoint.strip(), "auth_config": _auth(provider, form.auth_config),
            "config": config, "capabilities": form.capabilities or {"retrieve": True},
            "health": None, "enabled": form.enabled, "created_by": user_id, "created_at": now,
            "updated_at": now}


def changed_connection(form: ConnectionForm, existing: dict[str, Any]) -> dict[str, Any]:
    provider, config = checked(form)
    return {**existing, "name": form.name.strip(), "provider": provider,
            "endpoint": form.endpoint.strip(),
            "auth_config": _auth(provider, form.auth_config, existing.get("auth_config")),
            "config": config, "capabilities": form.capabilities or {"retrieve": True},
            "enabled": form.enabled, "updated_at": int(time.time())}


def shown(connection: dict[str, Any]) -> dict[str, Any]:
    visible = {k: v for k, v in connection.items() if k != "auth_config"}
    visible["auth_configured"] = bool(connection.get("auth_config"))
    return visible


def all_connections(rt: Runtime) -> list[dict[str, Any]]:
    return connections(rt.config.snapshot())


def one(rt: Runtime, connection_id: str) -> tuple[int, dict[str, Any]]:
    for index, connection in enumerate(all_connections(rt)):
        if connection.get("id") == connection_id:
            return index, connection
    raise HTTPException(404, f"External connection '{connection_id}' not found.")


@router.get("/connections")
async def list_connections(user: AdminUser, rt: RuntimeDep) -> dict[str, Any]:
    found = [shown(c) for c in all_connections(rt)]
    return {"items": found, "total": len(found)}


@router.post("/connections")
async def create_connection(form: ConnectionForm, user: AdminUser,
                            rt: RuntimeDep) -> dict[str, Any]:
    connection = new_connection(form, user.sub)
    await add_connection(rt, connection)
    return shown(connection)


async def add_connection(rt: Runtime, connection: dict[str, Any]) -> None:
    found = all_connections(rt)
    if len(found) >= MAX_CONNECTIONS:
        raise BadRequestError(f"At most {MAX_CONNECTIONS} external connections.")
    await store(rt, {EXTERNAL_CONNECTIONS: [*found, connection]})


@router.get("/connections/{connection_id}")
async def get_connection(connection_id: str, user: AdminUser,
                         rt: RuntimeDep) -> dict[str, Any]:
    return shown(one(rt, connection_id)[1])


@router.patch("/connections/{connection_id}")
async def update_connection(connection_id: str, form: ConnectionForm, user: AdminUser,
                            rt: RuntimeDep) -> dict[str, Any]:
    index, existing = one(rt, connection_id)
    connection = changed_connection(form, existing)
    await replace_connection(rt, index, connection)
    return shown(connection)


async def replace_connection(rt: Runtime, index: int, connection: dict[str, Any]) -> None:
    found = all_connections(rt)
    found[index] = connection
    await store(rt, {EXTERNAL_CONNECTIONS: found})


@router.delete("/connections/{connection_id}")
async def delete_connection(connection_id: str, user: AdminUser, session: Session,
                            rt: RuntimeDep) -> bool:
    one(rt, connection_id)
    metas = await session.scalars(select(Knowledge.meta).where(Knowledge.meta.is_not(None)))
    if any(((m or {}).get("external") or {}).get("connection_id") == connection_id
           for m in metas):
        raise BadRequestError("External connection is still used by knowledge bases.")
    await remove_connection(rt, connection_id)
    return True


async def remove_connection(rt: Runtime, connection_id: str) -> None:
    await store(rt, {EXTERNAL_CONNECTIONS: [c for c in all_connections(rt)
                                            if c.get("id") != connection_id]})


@router.post("/connections/{connection_id}/test")
async def test_connection(connection_id: str, user: AdminUser,
                          rt: RuntimeDep) -> dict[str, Any]:
    """As Open WebUI's: whether it is enabled and has an endpoint (no call is made), kept as
    the connection's `health`."""
    index, connection = one(rt, connection_id)
    health = {"ok": bool(connection.get("enabled") and connection.get("endpoint")),
              "provider": connection.get("provider"), "checked_at": int(time.time())}
    await replace_connection(rt, index, {**connection, "health": health,
                                         "updated_at": int(time.time())})
    return health
