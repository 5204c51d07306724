"""`owui status`: is each service up, and ready?"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from owui.cli.ports import BasePortOption, HostOption, PortsOption, base_url, resolve_ports

if TYPE_CHECKING:
    import ssl

    import httpx

STYLES = {"ready": "green", "unavailable": "yellow", "down": "red"}


def status(
    host: HostOption = "127.0.0.1",
    base_port: BasePortOption = None,
    port: PortsOption = None,
    timeout: Annotated[float, typer.Option(
        min=0.1, help="Seconds to wait for each answer.")] = 2.0,
    tls: Annotated[bool, typer.Option(
        "--tls", help="The services serve HTTPS (as under `owui up --tls`): verified against "
        "OWUI_TLS_CA if set (with OWUI_TLS_CLIENT_CERT/_KEY, as the services read them), else "
        "against the CA under the data dir's tls/, presenting a service's certificate where "
        "mutual TLS asks for one.")] = False,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="The data dir of `owui up --tls` (default: $OWUI_DATA_DIR or "
        "~/.owui), whose tls/ holds the certificates.", show_default=False)] = None,
) -> None:
    """Show each service's /readyz; exit 0 only if all five are ready."""
    import asyncio

    from rich.console import Console
    from rich.table import Table

    from owui.cli.certs import https

    urls = {name: https(base_url(host, p)) if tls else base_url(host, p)
            for name, p in resolve_ports(base_port, port).items()}
    verify = _tls_context(data_dir) if tls else None
    results = asyncio.run(_probe_all(urls, timeout, verify))
    table = Table()
    for column in ("service", "url", "status", "detail"):
        table.add_column(column)
    for name, url in urls.items():
        state, detail = results[name]
        table.add_row(name, url, f"[{STYLES[state]}]{state}[/]", detail)
    Console().print(table)
    raise typer.Exit(0 if all(state == "ready" for state, _ in results.values()) else 1)


def _tls_context(data_dir: Path | None) -> ssl.SSLContext | None:
    """What `--tls` verifies against and presents: the services' own TLS variables when set,
    else the certificates `owui up --tls` made (the gateway's pair as the client's)."""
    from owui.cli.certs import CertSet
    from owui.core.tls import probe_context

    if os.environ.get("OWUI_TLS_CA"):
        env: dict[str, str] = dict(os.environ)
    else:
        data = data_dir or Path(os.environ.get("OWUI_DATA_DIR") or Path.home() / ".owui")
        chosen = CertSet(data.expanduser().resolve() / "tls")
        if not chosen.exists():
            typer.echo(f"owui: no certificates in {chosen.folder} for --tls (made by "
                       "`owui up --tls` or `owui certs`; or set OWUI_TLS_CA)", err=True)
            raise typer.Exit(2)
        env = chosen.service_env("gateway")
    try:
        return probe_context(env)
    except (OSError, ValueError) as exc:  # unreadable files, a key that does not match
        typer.echo(f"owui: cannot read the certificates for --tls: {exc}", err=True)
        raise typer.Exit(2) from None


async def _probe_all(urls: dict[str, str], seconds: float,
                     verify: ssl.SSLContext | None = None) -> dict[str, tuple[str, str]]:
    import asyncio

    import httpx

    async with httpx.AsyncClient(timeout=seconds, trust_env=False,
                                 verify=verify if verify is not None else True) as client:
        answers = await asyncio.gather(*(_probe(client, url) for url in urls.values()))
    return dict(zip(urls, answers, strict=True))


async def _probe(client: httpx.AsyncClient, url: str) -> tuple[str, str]:
    """(state, detail): ready, unavailable (listening but not ready) or down (no answer)."""
    import httpx

    try:
        response = await client.get(f"{url}/readyz")
    except httpx.ConnectTimeout:
        return "down", "no connection in time"
    except httpx.TimeoutException:  # it accepted the connection, so something is listening
        return "unavailable", "no answer in time"
    except httpx.RemoteProtocolError as exc:  # what a server of HTTPS does to a plain request
        hint = " (serving HTTPS? try --tls)" if url.startswith("http://") else ""
        return "down", _reason(exc) + hint
    except httpx.HTTPError as exc:
        return "down", _reason(exc)
    if response.status_code == 200:
        return "ready", ""
    try:
        detail = str(response.json().get("detail") or response.reason_phrase)
    except (ValueError, AttributeError):
        detail = response.reason_phrase
    return "unavailable", f"HTTP {response.status_code}: {detail}"


def _reason(exc: BaseException) -> str:
    """The root cause, which says more than httpx's "All connection attempts failed"."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        exc, cause = cause, cause.__cause__ or cause.__context__
    return str(exc) or exc.__class__.__name__
