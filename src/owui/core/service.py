"""The frame every service app is built in: settings, logs, database, migrations, health, auth."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

import owui
from owui.core import metrics, tracing
from owui.core.auth import PUBLIC_PATHS, TokenAuthMiddleware
from owui.core.client import close_session
from owui.core.config import Settings, SettingsError, get_settings
from owui.core.db import Database
from owui.core.errors import document_errors, install_error_handlers
from owui.core.http import create_client
from owui.core.jsonbody import JsonBodyCheck
from owui.core.logging import configure_logging
from owui.core.middleware import RequestContextMiddleware
from owui.core.migrate import at_head, run_migrations

Hook = Callable[[FastAPI], Awaitable[None]]


def create_service_app(
    name: str,
    *,
    routers: Iterable[APIRouter] = (),
    metadata: MetaData | None = None,
    migrations: Path | None = None,
    public_paths: Iterable[str] = (),
    on_startup: Iterable[Hook] = (),
    on_shutdown: Iterable[Hook] = (),
    settings: Settings | None = None,
    authenticate: bool = True,
    middleware: Iterable[Middleware] = (),
    cors: bool = False,
    request_context: bool = True,
    check_json: bool = True,
    openapi_url: str | None = "/openapi.json",
    outside_http: bool = False,
) -> FastAPI:
    """A service's app. `outside_http`: it calls HTTP outside owui (web search engines), so
    `app.state.http` holds an httpx client for that; calls between services use core.client
    (aiohttp) and need none."""
    settings = settings or get_settings()
    configure_logging(name, settings.log_level_for(name), settings.owui_log_format)
    tracing.setup(name, settings)
    metrics_server = _metrics_server(settings)
    startup_hooks, shutdown_hooks = list(on_startup), list(on_shutdown)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(settings.database_url_for(name))
        if settings.owui_metrics:
            metrics.watch_pool(app.state.db.engine.sync_engine, name)
        app.state.not_ready = None
        migrate_here = settings.owui_migrate_on_start or migrations is None
        if migrations is not None and metadata is not None and migrate_here:
            await _migrate(app.state.db, migrations, metadata, name,
                           settings.owui_database_wait)
        app.state.http = create_client(settings) if outside_http else None
        waiter = None
        if migrate_here:
            await _start(app, startup_hooks)
        else:  # serve /readyz (503) while waiting for `owui migrate`; start-up runs after
            app.state.not_ready = SCHEMA_NOT_AT_HEAD
            waiter = asyncio.create_task(_start_at_head(app, migrations, startup_hooks))
        try:
            yield
        finally:
            if waiter is not None:
                waiter.cancel()
                await asyncio.gather(waiter, return_exceptions=True)
            if app.state.not_ready is None:
                await _run_hooks(app, shutdown_hooks)
            if app.state.http is not None:
                await app.state.http.aclose()
            await close_session()  # calls to other services (core.client)
            await app.state.db.dispose()
            if metrics_server is not None:
                metrics_server.close()
            metrics.process_exited()
            tracing.shutdown()

    # openapi_url None: no built-in /openapi.json and /docs (the gateway serves merged ones).
    app = FastAPI(title=f"owui {name}", version=owui.__version__, lifespan=lifespan,
                  openapi_url=openapi_url)
    app.state.service = name
    app.state.settings = settings
    # What RequestContextMiddleware hands each finished request to (the gateway builds its
    # own RequestContextMiddleware and takes it from here).
    app.state.observe_request = (metrics.RequestMetrics(name).observe
                                 if settings.owui_metrics else None)
    install_error_handlers(app)
    document_errors(app)
    app.include_router(health_router(name))
    if settings.owui_metrics and name != PUBLIC_SERVICE:
        app.include_router(metrics_router())
    for router in routers:
        app.include_router(router)
    # Added innermost first: requests pass CORS, then the request id, then auth, then the
    # JSON body check (so that every route and raw fast path gets only JSON it can hold).
    for item in middleware:
        app.add_middleware(item.cls, *item.args, **item.kwargs)
    if check_json:
        app.add_middleware(JsonBodyCheck, limit=int(settings.max_json_size))
    if authenticate:
        app.add_middleware(TokenAuthMiddleware, secret=settings.jwt_secret,
                           public_paths=PUBLIC_PATHS | frozenset(public_paths))
    if request_context:
        app.add_middleware(RequestContextMiddleware, access_log_enabled=settings.owui_access_log,
                           observe=app.state.observe_request)
    if cors:
        app.add_middleware(CORSMiddleware, **cors_options(settings))
    if name != PUBLIC_SERVICE:  # the gateway's spans start at its raw front door (front_door)
        tracing.instrument_app(app)
    return app


# The one service whose port is public: it never answers /metrics there (OWUI_METRICS_PORT).
PUBLIC_SERVICE = "gateway"


def front_door(asgi: ASGIApp) -> ASGIApp:
    """The gateway's outermost layer: server spans around everything it answers or routes."""
    return tracing.wrap_asgi(asgi, metrics.RequestMetrics(PUBLIC_SERVICE).fallback)


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"], include_in_schema=False)

    @router.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    return router


def _metrics_server(settings: Settings) -> metrics.MetricsServer | None:
    """/metrics on OWUI_METRICS_PORT when set: bound now, so a taken port stops the start."""
    if not settings.owui_metrics or settings.owui_metrics_port is None:
        return None
    host, port = settings.owui_metrics_host, settings.owui_metrics_port
    try:
        return metrics.MetricsServer(host, port)
    except OSError as exc:
        raise SettingsError(f"Invalid configuration:\n  OWUI_METRICS_PORT: cannot serve "
                            f"metrics on {host}:{port}: {exc.strerror or exc} (another "
                            "process has the port? choose another, or unset it; or check "
                            "OWUI_METRICS_HOST)") from None


def cors_options(settings: Settings) -> dict[str, object]:
    origins = settings.cors_allow_origins
    return {"allow_origins": origins, "allow_methods": ["*"], "allow_headers": ["*"],
            "allow_credentials": "*" not in origins, "max_age": 600,
            "expose_headers": ["X-Request-ID", "Retry-After"]}


class StartupError(RuntimeError):
    """The service cannot start; the message says what to fix."""


def _not_up_yet(exc: BaseException) -> bool:
    """Refused, unresolvable, or PostgreSQL starting up or shutting down (SQLSTATE 57P)."""
    return (isinstance(exc, OSError | OperationalError | InterfaceError)
            or str(getattr(getattr(exc, "orig", None), "sqlstate", "")).startswith("57P"))


async def _migrate(db: Database, migrations: Path, metadata: MetaData, name: str,
                   wait: float = 0.0) -> None:
    """Migrate; a database not up yet is waited for up to `wait` seconds (OWUI_DATABASE_WAIT),
    rather than exiting into a restart policy's loop."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            await run_migrations(db, migrations, metadata, name)
            return
        except (OSError, SQLAlchemyError) as exc:
            if not _not_up_yet(exc) or asyncio.get_running_loop().time() > deadline:
                raise _cannot_open(db, name, exc) from None
            log.warning("%s: waiting for its database: %s", name, exc)
            await asyncio.sleep(2)


def _cannot_open(db: Database, name: str, exc: BaseException) -> StartupError:
    shown = make_url(db.url).render_as_string(hide_password=True)
    return StartupError(f"The {name} service cannot open its database {shown}: {exc}. "
                        "Check DATABASE_URL (or OWUI_DATA_DIR for SQLite).")


SCHEMA_NOT_AT_HEAD = "database schema not at head: run owui migrate"
log = logging.getLogger("owui.service")


async def _run_hooks(app: FastAPI, hooks: Iterable[Hook]) -> None:
    for hook in hooks:
        await hook(app)


async def _start(app: FastAPI, hooks: Iterable[Hook]) -> None:
    await _run_hooks(app, hooks)
    # What is alive once started lives as long as the process: keep it out of the collector's
    # full passes (they cost the chat service's 500-message branch a p99 of 75 ms, not 9 ms).
    gc.collect()
    gc.freeze()
    _return_free_heap()


def _return_free_heap() -> None:
    """Start-up (migrations, route building) frees much of what it allocated, but glibc keeps
    freed heap pages for reuse: hand them back, so an idle service holds what it uses."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


async def _start_at_head(app: FastAPI, migrations: Path, hooks: Iterable[Hook],
                         interval: float = 1.0) -> None:
    """Poll the version table until a separate step has migrated, then run start-up."""
    name = app.state.service
    while True:
        try:
            if await at_head(app.state.db, migrations, name):
                break
        except (OSError, SQLAlchemyError) as exc:
            log.debug("schema check for %s failed: %s", name, exc)
        await asyncio.sleep(interval)
    try:
        await _start(app, hooks)
    except Exception as exc:  # stays not ready, with the reason, instead of dying silently
        log.exception("start-up of %s failed", name)
        app.state.not_ready = f"start-up failed: {exc}"
        return
    app.state.not_ready = None


def health_router(name: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        if getattr(request.app.state, "not_ready", None) is not None:
            return JSONResponse({"status": "unavailable", "service": name,
                                 "detail": request.app.state.not_ready}, 503)
        try:
            await request.app.state.db.ping()
        except Exception as exc:  # any failure of the store means not ready
            return JSONResponse({"status": "unavailable", "service": name,
                                 "detail": f"database: {exc.__class__.__name__}"}, 503)
        return JSONResponse({"status": "ready", "service": name})

    return router


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    session = request.app.state.db.sessions()
    try:
        yield session
    finally:
        try:
            await session.close()
        except DBAPIError as exc:
            # The database went away after the route had answered (the close rolls back on
            # a dead connection): the pool drops the connection; the answer stands.
            if not exc.connection_invalidated:
                raise
            log.warning("closing a session of %s: %s", request.app.state.service, exc.orig)


Session = Annotated[AsyncSession, Depends(get_session)]
