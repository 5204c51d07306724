"""Where the services listen: host and port options shared by `up` and `status`, and port checks."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from owui.core.services import BY_NAME, NAMES, SERVICES

HostOption = Annotated[str, typer.Option("--host", help="Interface the services listen on.")]
BasePortOption = Annotated[int | None, typer.Option(
    "--base-port", min=1, max=65531,
    help="Shift the default layout: gateway on N, inference on N+1 ... chat on N+4.")]
PortsOption = Annotated[list[str] | None, typer.Option(
    "--port", "-p", metavar="SERVICE=PORT",
    help="Put one service on its own port, e.g. -p chat=9004 (repeatable).")]


def unknown_service(name: str) -> str:
    return f"unknown service {name!r}; choose one of: {', '.join(NAMES)}"


def resolve_ports(base_port: int | None, overrides: list[str] | None) -> dict[str, int]:
    """Ports per service: the defaults (or base_port + offset), then each SERVICE=PORT given."""
    first = SERVICES[0].port
    ports = {s.name: s.port if base_port is None else base_port + s.port - first for s in SERVICES}
    for item in overrides or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not value.strip().isdigit():
            raise typer.BadParameter(f"expected SERVICE=PORT such as chat=9004, got {item!r}",
                                     param_hint="--port")
        if name not in BY_NAME:
            raise typer.BadParameter(unknown_service(name), param_hint="--port")
        port = int(value)
        if not 1 <= port <= 65535:
            raise typer.BadParameter(f"{port} is not a port number", param_hint="--port")
        ports[name] = port
    taken: dict[int, str] = {}
    for name, port in ports.items():
        if port in taken:
            raise typer.BadParameter(f"{taken[port]} and {name} both on port {port}",
                                     param_hint="--port")
        taken[port] = name
    return ports


def client_host(host: str) -> str:
    """The address to reach a server bound to `host`: a wildcard bind is reached on loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def base_url(host: str, port: int) -> str:
    target = client_host(host)
    return f"http://[{target}]:{port}" if ":" in target else f"http://{target}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A bound socket on host:port, made the way uvicorn makes its own (SO_REUSEADDR), so a
    port that uvicorn could take is never reported busy and one it could not take always is."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def bind_problem(service: str, host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} for {service} is already in use on {host}"
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port} for {service} on {host}"
    return f"cannot listen on {host}:{port} for {service}: {exc.strerror or exc}"


def busy_ports(host: str, ports: dict[str, int]) -> list[str]:
    """One message per service whose port cannot be bound now."""
    problems = []
    for name, port in ports.items():
        try:
            bind(host, port).close()
        except OSError as exc:
            problems.append(bind_problem(name, host, port, exc))
    return problems
