"""`owui serve SERVICE`: one service in this process, under uvicorn."""

from __future__ import annotations

import importlib
import importlib.util
import os
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from owui.cli.ports import base_url, bind, bind_problem, unknown_service
from owui.core.services import BY_NAME, NAMES


def _complete_service(incomplete: str) -> list[str]:
    return [name for name in NAMES if name.startswith(incomplete)]


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"owui: {message}", err=True)
    return typer.Exit(code)


def serve(
    service: Annotated[str, typer.Argument(
        help=f"One of: {', '.join(NAMES)}.", autocompletion=_complete_service,
        show_default=False)],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(
        min=1, max=65535, help="Port (default: the service's own, 8000-8004).",
        show_default=False)] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Where the local stores live (sets OWUI_DATA_DIR).",
        show_default=False)] = None,
) -> None:
    """Run one service in the foreground."""
    if service not in BY_NAME:
        raise fail(unknown_service(service), 2)
    port = BY_NAME[service].port if port is None else port
    if data_dir is not None:
        os.environ["OWUI_DATA_DIR"] = str(data_dir.expanduser().resolve())

    # Bound before the app is imported, so a busy port fails at once, and handed to uvicorn
    # as it is, so nothing can take the port between the check and the listen.
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise fail(bind_problem(service, host, port, exc)) from None
    try:
        app = _load_app(service)
        tls = _tls_options(service)
        url = base_url(host, port)
        _run(service, app, sock, url.replace("http://", "https://", 1) if tls else url, tls)
    finally:
        sock.close()


def _load_app(service: str) -> Any:
    from owui.core.config import SettingsError

    try:
        module = importlib.import_module(f"owui.{service}.app")
    except SettingsError as exc:
        raise fail(str(exc.code)) from None
    except ImportError as exc:
        raise fail(f"the {service} service cannot be loaded: {exc}") from None
    return module.app


def _tls_options(service: str) -> dict[str, Any]:
    """uvicorn's TLS arguments from the settings the app has read (and checked) on import."""
    from owui.core import tls
    from owui.core.config import get_settings

    return tls.uvicorn_options(get_settings(), service)


def _run(service: str, app: Any, sock: socket.socket, url: str,
         tls: dict[str, Any] | None = None) -> None:
    import logging

    import uvicorn

    class Server(uvicorn.Server):
        # uvicorn announces its address only for sockets it bound itself.
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                logging.getLogger("owui.serve").info("%s listening on %s", service, url)

    config = uvicorn.Config(
        app,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        lifespan="on",
        server_header=False,
        date_header=False,
        access_log=False,  # the app writes its own JSON access log
        log_config=None,  # keep the JSON handlers the app installed on import
        timeout_graceful_shutdown=3,  # well inside the 5 s `owui up` waits before SIGKILL
        # Idle connections stay open longer than the services' own clients keep them (60 s,
        # aiohttp pools): else uvicorn's 5 s default closes one just as a client reuses it,
        # and the request fails with a reset (a 502 at the gateway under load).
        timeout_keep_alive=75,
        **(tls or {}),  # SSL_CERTFILE, SSL_KEYFILE, client certificates (core/tls.py)
    )
    server = Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(3)  # uvicorn's own code for a failed start
