"""ASGI app of the gateway: `uvicorn owui.gateway.app:app`.

Proxied requests never enter FastAPI: CORS (only when the request has an Origin), the request
id and the front door run as raw ASGI, and only the gateway's own routes reach FastAPI.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from owui.core.asgi import header
from owui.core.middleware import RequestContextMiddleware
from owui.core.service import cors_options, create_service_app, front_door
from owui.gateway import openapi
from owui.gateway.administration import Administration
from owui.gateway.dispatch import GatewayMiddleware
from owui.gateway.models import GatewayBase
from owui.gateway.routes import (
    app_meta,
    auths,
    auths_admin,
    configs,
    configs_absent,
    docs,
    groups,
    users,
    users_self,
)
from owui.gateway.runtime import Runtime


async def _start(app: FastAPI) -> None:
    settings = app.state.settings
    app.state.runtime = Runtime.create(
        settings, app.state.db.sessions,
        lambda proxy: openapi.for_gateway(app.openapi, proxy, settings),
        Administration.create(settings, app.state.db))
    await app.state.runtime.start()


async def _stop(app: FastAPI) -> None:
    await app.state.runtime.stop()


class GatewayApp:
    def __init__(self, api: FastAPI) -> None:
        self.api = api
        settings = api.state.settings
        self.plain: ASGIApp = RequestContextMiddleware(
            GatewayMiddleware(api), access_log_enabled=settings.owui_access_log,
            observe=api.state.observe_request)
        self.with_cors: ASGIApp = CORSMiddleware(self.plain, **cors_options(settings))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.api(scope, receive, send)
        elif header(scope, b"origin") is None:
            await self.plain(scope, receive, send)
        else:
            await self.with_cors(scope, receive, send)


api = create_service_app(
    "gateway",
    routers=[auths.router, auths_admin.router, users_self.router, users.router, groups.router,
             configs.router, configs_absent.router, app_meta.router, app_meta.outside,
             docs.router],
    metadata=GatewayBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[_start],
    on_shutdown=[_stop],
    authenticate=False,
    request_context=False,
    check_json=False,  # the front door (guard.checked_body) checks every body first
    openapi_url=None,  # docs.router serves the merged document instead
)
app = front_door(GatewayApp(api))  # server spans when tracing is on (core.tracing)
