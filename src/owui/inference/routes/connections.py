"""`/api/v1/inference/connections` (admin): the provider connections, changed at run time."""

from __future__ import annotations

import asyncio
import importlib
import time

from fastapi import APIRouter, HTTPException, status

from owui.core.auth import AdminUser
from owui.core.config import Settings
from owui.core.service import Session
from owui.inference import crud, live
from owui.inference.models import Connection
from owui.inference.runtime import Runtime, RuntimeDep
from owui.inference.schemas import (
    ConnectionForm,
    ConnectionModel,
    ConnectionTest,
    ConnectionUpdate,
)

router = APIRouter(prefix="/api/v1/inference/connections", tags=["connections"])


def _model(runtime: Runtime, row: Connection) -> ConnectionModel:
    upstream = runtime.catalog.upstreams.get(row.id)
    return ConnectionModel(
        id=row.id, provider=row.provider, url=row.url, name=row.name,  # type: ignore[arg-type]
        prefix_id=row.prefix_id, enabled=row.enabled, source=row.source,  # type: ignore[arg-type]
        has_api_key=bool(row.api_key), position=row.position,
        status=upstream.status if upstream and row.enabled else "unknown",  # type: ignore[arg-type]
        error=upstream.error if upstream else None,
        models=len(upstream.models) if upstream else 0,
        in_flight=upstream.in_flight if upstream else 0,
        created_at=row.created_at, updated_at=row.updated_at)


async def _get(session: Session, connection_id: str) -> Connection:
    row = await crud.get_connection(session, connection_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No connection {connection_id!r}.")
    return row


async def _changed(runtime: Runtime) -> None:
    """Apply the stored set at once (on the other replicas within seconds), and ask the changed
    connections for their models."""
    await live.announce(runtime, live.CONNECTIONS)
    await runtime.reload_connections()
    await runtime.catalog.refresh()


@router.get("", response_model=list[ConnectionModel])
async def list_connections(runtime: RuntimeDep, session: Session,
                           _admin: AdminUser) -> list[ConnectionModel]:
    return [_model(runtime, row) for row in await crud.list_connections(session)]


@router.post("", response_model=ConnectionModel, status_code=status.HTTP_201_CREATED)
async def add_connection(form: ConnectionForm, runtime: RuntimeDep, session: Session,
                         _admin: AdminUser) -> ConnectionModel:
    row = await crud.add_connection(session, form)
    await _changed(runtime)
    return _model(runtime, row)


@router.post("/test", response_model=ConnectionTest)
async def test_new_connection(form: ConnectionForm, _admin: AdminUser,
                              runtime: RuntimeDep) -> ConnectionTest:
    """Try a connection before adding it."""
    return await _test(runtime.settings, form.provider, form.url, form.api_key)


@router.get("/{connection_id}", response_model=ConnectionModel)
async def get_connection(connection_id: str, runtime: RuntimeDep, session: Session,
                         _admin: AdminUser) -> ConnectionModel:
    return _model(runtime, await _get(session, connection_id))


@router.patch("/{connection_id}", response_model=ConnectionModel)
async def update_connection(connection_id: str, form: ConnectionUpdate, runtime: RuntimeDep,
                            session: Session, _admin: AdminUser) -> ConnectionModel:
    row = await crud.update_connection(session, await _get(session, connection_id), form)
    await _changed(runtime)
    return _model(runtime, row)


@router.delete("/{connection_id}")
async def delete_connection(connection_id: str, runtime: RuntimeDep, session: Session,
                            _admin: AdminUser) -> dict[str, bool]:
    await crud.delete_connection(session, await _get(session, connection_id))
    await _changed(runtime)
    return {"deleted": True}


@router.post("/{connection_id}/test", response_model=ConnectionTest)
async def test_connection(connection_id: str, runtime: RuntimeDep, session: Session,
                          _admin: AdminUser) -> ConnectionTest:
    """List the connection's models with the provider's official client."""
    row = await _get(session, connection_id)
    return await _test(runtime.settings, row.provider, row.url, row.api_key)


async def _test(settings: Settings, provider: str, url: str,
                api_key: str | None) -> ConnectionTest:
    start = time.perf_counter()
    try:
        names = await _list_with_sdk(provider, url, api_key, settings.upstream_connect_timeout)
    except Exception as exc:  # any failure of the provider is the test's answer
        return ConnectionTest(ok=False, models=[], error=f"{type(exc).__name__}: {exc}",
                              latency_ms=round((time.perf_counter() - start) * 1000, 1))
    return ConnectionTest(ok=True, models=names,
                          latency_ms=round((time.perf_counter() - start) * 1000, 1))


async def _list_with_sdk(provider: str, url: str, api_key: str | None,
                         seconds: float) -> list[str]:
    """The official clients, off the hot path. They take up to a second to import, so the
    first import happens in a thread, not in the event loop that streams other answers."""
    sdk = await asyncio.to_thread(importlib.import_module, provider)
    if provider == "openai":
        async with sdk.AsyncOpenAI(base_url=url, api_key=api_key or "none", timeout=seconds,
                                   max_retries=0) as openai_client:
            return [model.id async for model in openai_client.models.list()]
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
    client = sdk.AsyncClient(host=url, timeout=seconds, headers=headers)
    try:
        listed = await client.list()
    finally:
        await client.close()
    return [str(model.model) for model in listed.models]
