"""`owui status`: is each service up, and ready?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from owui.cli.ports import BasePortOption, HostOption, PortsOption, base_url, resolve_ports

if TYPE_CHECKING:
    import httpx

STYLES = {"ready": "green", "unavailable": "yellow", "down": "red"}


def status(
    host: HostOption = "127.0.0.1",
    base_port: BasePortOption = None,
    port: PortsOption = None,
    timeout: Annotated[float, typer.Option(
        min=0.1, help="Seconds to wait for each answer.")] = 2.0,
) -> None:
    """Show each service's /readyz; exit 0 only if all five are ready."""
    import asyncio

    from rich.console import Console
    from rich.table import Table

    urls = {name: base_url(host, p) for name, p in resolve_ports(base_port, port).items()}
    results = asyncio.run(_probe_all(urls, timeout))
    table = Table()
    for column in ("service", "url", "status", "detail"):
        table.add_column(column)
    for name, url in urls.items():
        state, detail = results[name]
        table.add_row(name, url, f"[{STYLES[state]}]{state}[/]", detail)
    Console().print(table)
    raise typer.Exit(0 if all(state == "ready" for state, _ in results.values()) else 1)


async def _probe_all(urls: dict[str, str], seconds: float) -> dict[str, tuple[str, str]]:
    import asyncio

    import httpx

    async with httpx.AsyncClient(timeout=seconds, trust_env=False) as client:
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
