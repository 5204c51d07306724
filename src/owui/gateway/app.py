"""ASGI app of the gateway: `uvicorn owui.gateway.app:app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware import Middleware

from owui.core.service import create_service_app
from owui.gateway.dispatch import Gateway, GatewayMiddleware
from owui.gateway.models import GatewayBase
from owui.gateway.routes import auths, users


async def _start(app: FastAPI) -> None:
    app.state.gateway = Gateway.create(app.state.settings, app.state.db.sessions)
    await app.state.gateway.start()


async def _stop(app: FastAPI) -> None:
    await app.state.gateway.stop()


app = create_service_app(
    "gateway",
    routers=[auths.router, users.router],
    metadata=GatewayBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[_start],
    on_shutdown=[_stop],
    authenticate=False,
    middleware=[Middleware(GatewayMiddleware)],
    cors=True,
)
