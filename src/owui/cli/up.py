"""`owui up`: all five services as supervised subprocesses, on one machine."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from owui.cli.ports import (
    BasePortOption,
    HostOption,
    PortsOption,
    base_url,
    busy_ports,
    client_host,
    resolve_ports,
)
from owui.cli.profiles import DEFAULT_PROFILE, Profile, ProfileError, load_profile
from owui.cli.serve import fail
from owui.core.services import SERVICES

if TYPE_CHECKING:
    from owui.cli.supervisor import Child


def up(
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Where the local stores live (default: $OWUI_DATA_DIR or ~/.owui).",
        show_default=False)] = None,
    host: HostOption = "127.0.0.1",
    base_port: BasePortOption = None,
    port: PortsOption = None,
    profile: Annotated[str, typer.Option(
        help="Profile name (see profiles/) or path to a profile .yaml file.")] = DEFAULT_PROFILE,
    ready_timeout: Annotated[float, typer.Option(
        min=1, help="Seconds the services have, from start, to become ready.")] = 60.0,
    fork_server: Annotated[bool, typer.Option(
        "--fork-server/--no-fork-server",
        help="Fork the services from one process that has imported the framework once "
             "(faster start, shared memory), or start each as a plain subprocess.")] = True,
    chroma_port: Annotated[int | None, typer.Option(
        min=1, max=65535, help="Port of the Chroma server that profiles with "
        "stores.vectors: chroma run, unless CHROMA_HTTP_URL is set (default: after the "
        "services' ports).", show_default=False)] = None,
    tls: Annotated[bool, typer.Option(
        "--tls", help="HTTPS everywhere, with the certificates of `owui certs` under "
        "$OWUI_DATA_DIR/tls (made on first use).")] = False,
) -> None:
    """Run all five services, restart any that crash, stop them all on Ctrl-C."""
    started_at = time.monotonic()
    ports = resolve_ports(base_port, port)
    try:
        chosen = load_profile(profile)
    except ProfileError as exc:
        raise fail(str(exc)) from None
    env = child_env(chosen, data_dir, host, ports)
    certs = None
    if tls:
        from owui.cli.certs import for_up

        try:
            certs = for_up(env, client_host(host))
        except (OSError, ValueError) as exc:
            raise fail(f"cannot make or read the certificates for --tls: {exc}") from None
    extra = server_children(chosen, env, host, chroma_port or max(ports.values()) + 1)
    problems = busy_ports(host, {**ports, **{c.name: c.address[1] for c in extra}})
    if problems:
        for problem in problems:
            typer.echo(f"owui: {problem}", err=True)
        raise typer.Exit(1)
    prepare_data_dir(Path(env["OWUI_DATA_DIR"]), env)

    from owui.cli.supervisor import Child, become_lean, run

    databases = service_databases(chosen, env)
    children = [
        Child(name=s.name, env={**env, **databases.get(s.name, {}),
                                **(certs.service_env(s.name) if certs else {})},
              url=certs.url(base_url(host, ports[s.name])) if certs else base_url(
                  host, ports[s.name]),
              address=(client_host(host), ports[s.name]),
              argv=[sys.executable, "-m", "owui", "serve", s.name,
                    "--host", host, "--port", str(ports[s.name])])
        for s in SERVICES
    ] + extra
    banner = (f"starting {len(children)} services, profile {chosen.name}, "
              f"data in {env['OWUI_DATA_DIR']}")
    gateway_url = next(c.url for c in children if c.name == "gateway")
    options = {"ready_timeout": ready_timeout, "started_at": started_at, "banner": banner,
               "footer": webapp_line(env, gateway_url), "use_fork_server": fork_server,
               "migrate_env": migrate_env(env, databases)}
    become_lean(children, **options)  # the supervisor without what `up` imported (Linux)
    code = run(children, **options)
    raise typer.Exit(code)


def webapp_line(env: dict[str, str], gateway_url: str) -> str:
    """Where to open the web app, or why there is none (the API runs either way)."""
    from owui.gateway.webapp.build import locate

    def path(variable: str) -> Path | None:
        return Path(env[variable]) if env.get(variable) else None

    build = locate(Path(env["OWUI_DATA_DIR"]), path("FRONTEND_BUILD_DIR"), path("STATIC_DIR"))
    if build.ready:
        return f"Open WebUI's web app: {gateway_url}"
    return f"no web app: {build.problem}"


def migrate_env(env: dict[str, str], databases: dict[str, dict[str, str]],
                ) -> dict[str, str] | None:
    """The environment of the migrations `up` runs before the services (each service's
    database as `owui migrate` reads it); None where the services are to wait for a
    separate `owui migrate` (OWUI_MIGRATE_ON_START=false)."""
    if env.get("OWUI_MIGRATE_ON_START", "").strip().lower() in _FALSE:
        return None
    return {**env, **{f"DATABASE_URL_{name.upper()}": database["DATABASE_URL"]
                      for name, database in databases.items()}}


_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})  # as the settings read a boolean


def child_env(profile: Profile, data_dir: Path | None, host: str,
              ports: dict[str, int]) -> dict[str, str]:
    """The profile's defaults, the user's environment over them, then what `up` decides."""
    env = {**profile.store_env(), **os.environ}
    if data_dir is None:
        data_dir = Path(env.get("OWUI_DATA_DIR") or Path.home() / ".owui")
    env["OWUI_DATA_DIR"] = str(data_dir.expanduser().resolve())
    for service in SERVICES:
        if service.url_variable:
            env[service.url_variable] = base_url(host, ports[service.name])
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach the prefixed output as they are written
    return env


def server_children(profile: Profile, env: dict[str, str], host: str,
                    chroma_port: int) -> list[Child]:
    """A local `chroma run` for a profile on a Chroma server, unless CHROMA_HTTP_URL names
    one; CHROMA_HTTP_URL is set in `env` for the services."""
    from owui.cli.server_stores import StoreError, chroma_argv
    from owui.cli.supervisor import Child

    if profile.stores.vectors != "chroma" or env.get("CHROMA_HTTP_URL"):
        return []
    try:
        argv = chroma_argv(Path(env["OWUI_DATA_DIR"]), client_host(host), chroma_port)
    except StoreError as exc:
        raise fail(str(exc)) from None
    url = base_url(client_host(host), chroma_port)
    env["CHROMA_HTTP_URL"] = url
    return [Child(name="chroma", env=env, url=url, argv=argv,
                  address=(client_host(host), chroma_port),
                  ready_path="/api/v2/heartbeat", forkable=False)]


def service_databases(profile: Profile, env: dict[str, str]) -> dict[str, dict[str, str]]:
    """For a profile on PostgreSQL: each service's own DATABASE_URL, the databases made."""
    if profile.stores.database != "postgres":
        return {}
    import asyncio

    from owui.cli.server_stores import StoreError, create_databases, service_database_urls

    try:
        urls = service_database_urls(env.get("DATABASE_URL"))
        asyncio.run(create_databases(urls))
    except StoreError as exc:
        raise fail(str(exc)) from None
    return {name: {"DATABASE_URL": url} for name, url in urls.items()}


def prepare_data_dir(data_dir: Path, env: dict[str, str]) -> None:
    """Make the data dir and, unless a key is configured, the one signing key all five share:
    made here, before any service starts, so that none of them reads a half-written file."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if not env.get("JWT_SECRET_KEY"):
            from owui.core.config import shared_secret

            shared_secret(data_dir)
    except OSError as exc:
        raise fail(f"cannot prepare the data dir {data_dir}: {exc.strerror or exc}") from None
