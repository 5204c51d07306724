"""Open WebUI's view of the connections (`/openai/config`, `/ollama/config`): per provider, the
switch, the base URLs in order, and per URL (keyed by its position) its options. Stored as rows
of the connections table, so that `/api/v1/inference/connections` and these routes see one set.

API keys are never sent back: each reads as "". An update that sends "" for a URL that already
had a key keeps that key (the web app sends back what it read); a new key replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.errors import InvalidError
from owui.inference import crud, live
from owui.inference.models import Connection
from owui.inference.runtime import Runtime
from owui.inference.schemas import check_url

# Options kept in their own columns; every other option is stored as sent, but for the
# defaults `GET /openai/config` fills in (sent back as read, they change nothing).
COLUMNS = ("enable", "prefix_id", "key")
DEFAULTS: dict[str, Any] = {"tags": [], "model_ids": [], "connection_type": "external"}
MAX_CONNECTIONS = 100


@dataclass(frozen=True, slots=True)
class Wanted:
    """One connection as an update asks for it."""

    url: str
    key: str
    options: dict[str, Any]


def configs(rows: list[Connection]) -> dict[str, dict[str, Any]]:
    """Each connection's options, keyed by its position, as Open WebUI's web app reads them."""
    return {str(index): {**(row.options or {}), "enable": row.enabled,
                         "prefix_id": row.prefix_id or ""}
            for index, row in enumerate(rows)}


async def rows_of(session: AsyncSession, provider: str) -> list[Connection]:
    return [row for row in await crud.list_connections(session) if row.provider == provider]


def wanted(urls: list[str], keys: list[str], options: dict[str, Any]) -> list[Wanted]:
    """The update checked: every URL http(s), every option set an object, a prefix short."""
    if len(urls) > MAX_CONNECTIONS:
        raise InvalidError(f"At most {MAX_CONNECTIONS} connections.")
    out = []
    for index, url in enumerate(urls):
        try:
            checked = check_url(url)
        except ValueError as exc:
            raise InvalidError(f"base URL {index} ({url!r}): {exc}") from None
        config = options.get(str(index)) or {}
        if not isinstance(config, dict):
            raise InvalidError(f"configs[{index}]: an object expected.")
        prefix = config.get("prefix_id") or ""
        if not isinstance(prefix, str) or len(prefix) > 64 or any(c.isspace() for c in prefix):
            raise InvalidError(f"configs[{index}].prefix_id: at most 64 characters, no spaces.")
        key = keys[index] if index < len(keys) else ""
        out.append(Wanted(checked, key or str(config.get("key") or ""), config))
    return out


def _apply(row: Connection, want: Wanted, position: int) -> None:
    """The row as wanted; one the update changes becomes the admin's (source), as through
    /api/v1/inference/connections. An update that sends a row back as read leaves it as it was."""
    before = (row.url, row.api_key, row.enabled, row.prefix_id, row.options or {})
    row.url = want.url
    if want.key:
        row.api_key = want.key
    row.enabled = bool(want.options.get("enable", True))
    row.prefix_id = want.options.get("prefix_id") or None
    row.options = {k: v for k, v in want.options.items()
                   if k not in COLUMNS and DEFAULTS.get(k, ...) != v}
    row.position = position
    if (row.url, row.api_key, row.enabled, row.prefix_id, row.options or {}) != before:
        row.source = "admin"


async def replace(session: AsyncSession, provider: str, wants: list[Wanted]) -> None:
    """Make the provider's connections these, in this order: a URL already there keeps its row
    (and key, unless a new one is sent), others are added, the rest removed. One transaction."""
    current = await rows_of(session, provider)
    for position, want in enumerate(wants):
        row = next((r for r in current if r.url == want.url), None)
        if row is None:
            row = Connection(provider=provider, url=want.url, name="")
            session.add(row)
        else:
            current.remove(row)
        _apply(row, want, position)
    for row in current:
        await session.delete(row)
    await session.commit()


async def update(runtime: Runtime, session: AsyncSession, provider: str, enable: bool | None,
                 wants: list[Wanted]) -> None:
    """Store the provider's connections and switch, then apply them here at once (the new
    connections asked for their models) and on the other replicas within seconds."""
    await replace(session, provider, wants)
    if enable is not None and runtime.catalog.live is not None:
        await runtime.catalog.live.update({live.SWITCHES[provider]: enable})
    await live.announce(runtime, live.CONNECTIONS)
    await runtime.reload_connections()
    await runtime.catalog.refresh()
