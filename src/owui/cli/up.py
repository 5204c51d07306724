"""`owui up`: all five services as supervised subprocesses, on one machine."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

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
) -> None:
    """Run all five services, restart any that crash, stop them all on Ctrl-C."""
    started_at = time.monotonic()
    ports = resolve_ports(base_port, port)
    try:
        chosen = load_profile(profile)
    except ProfileError as exc:
        raise fail(str(exc)) from None
    env = child_env(chosen, data_dir, host, ports)
    problems = busy_ports(host, ports)
    if problems:
        for problem in problems:
            typer.echo(f"owui: {problem}", err=True)
        raise typer.Exit(1)
    prepare_data_dir(Path(env["OWUI_DATA_DIR"]), env)

    import asyncio

    from owui.cli.processes import signal_group
    from owui.cli.supervisor import Child, Supervisor

    children = [
        Child(name=s.name, env=env, url=base_url(host, ports[s.name]),
              address=(client_host(host), ports[s.name]),
              argv=[sys.executable, "-m", "owui", "serve", s.name,
                    "--host", host, "--port", str(ports[s.name])])
        for s in SERVICES
    ]
    banner = (f"starting {len(children)} services, profile {chosen.name}, "
              f"data in {env['OWUI_DATA_DIR']}")
    supervisor = Supervisor(children, ready_timeout=ready_timeout, started_at=started_at,
                            banner=banner, use_fork_server=fork_server)
    try:
        code = asyncio.run(supervisor.run())
    finally:
        # Last resort, should the supervisor itself have failed: nothing may outlive `up`.
        import signal

        for child in children:
            if child.process is not None and child.process.returncode is None:
                signal_group(child.process, signal.SIGKILL)
    raise typer.Exit(code)


def child_env(profile: Profile, data_dir: Path | None, host: str,
              ports: dict[str, int]) -> dict[str, str]:
    """The profile's defaults, the user's environment over them, then what `up` decides."""
    env = {**profile.env, **os.environ}
    if data_dir is None:
        data_dir = Path(env.get("OWUI_DATA_DIR") or Path.home() / ".owui")
    env["OWUI_DATA_DIR"] = str(data_dir.expanduser().resolve())
    for service in SERVICES:
        if service.url_variable:
            env[service.url_variable] = base_url(host, ports[service.name])
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach the prefixed output as they are written
    return env


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
