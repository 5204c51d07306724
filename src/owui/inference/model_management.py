"""Managing the models of a local OpenAI-compatible server (llama.cpp's server, LM Studio) from
the Connections page, as Open WebUI 0.12 does: the connection's `provider` option names the
server, and each operation is that server's own endpoint, under its root URL (the base URL
without `/v1`, `/api/v1` or `/api/v0`). Other connections support none of it: 400 says so."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from owui.core.errors import BadRequestError, NotFoundError, UpstreamError
from owui.inference.models import Connection
from owui.inference.providers.base import error_message

ENDPOINTS: dict[str, dict[str, str]] = {
    "llama.cpp": {"list": "/models", "download": "/models", "delete": "/models",
                  "load": "/models/load", "unload": "/models/unload", "sse": "/models/sse"},
    "lmstudio": {"list": "/api/v1/models", "download": "/api/v1/models/download",
                 "download_status": "/api/v1/models/download/status/{job_id}",
                 "load": "/api/v1/models/load", "unload": "/api/v1/models/unload"},
}
MAX_ANSWER = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Managed:
    """One connection's model-management endpoint for one operation."""

    url: str
    key: str | None
    prefix_id: str | None
    provider: str

    def model(self, name: str) -> str:
        """The server's own name for a model listed as `<prefix>.<name>`."""
        prefix = f"{self.prefix_id}." if self.prefix_id else ""
        return name.removeprefix(prefix) if prefix else name


def root_url(url: str) -> str:
    root = url.rstrip("/")
    for suffix in ("/api/v1", "/api/v0", "/v1"):
        if root.endswith(suffix):
            return root.removesuffix(suffix)
    return root


def managed(rows: list[Connection], url_idx: int, operation: str,
            **path_params: str) -> Managed:
    """The OpenAI connection at `url_idx` and its endpoint for `operation`."""
    if url_idx >= len(rows):
        raise NotFoundError(f"url_idx {url_idx}: there are {len(rows)} OpenAI connections.")
    row = rows[url_idx]
    provider = str((row.options or {}).get("provider") or "")
    path = ENDPOINTS.get(provider, {}).get(operation)
    if provider not in ENDPOINTS:
        raise BadRequestError(f'Provider "{provider or "default"}" does not support model '
                              "management (set the connection's provider to llama.cpp or "
                              "lmstudio).")
    if path is None:
        raise BadRequestError(f'Provider "{provider}" does not support {operation}.')
    return Managed(root_url(row.url) + path.format(**path_params), row.api_key, row.prefix_id,
                   provider)


def _session(seconds: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
        total=None, connect=seconds, sock_read=max(60.0, seconds)))


def _headers(target: Managed) -> dict[str, str]:
    return {"Authorization": f"Bearer {target.key}"} if target.key else {}


async def call(target: Managed, method: str, seconds: float, body: dict[str, Any] | None = None,
               query: dict[str, str] | None = None) -> Any:
    """One request to the server; its JSON answer (`{"success": true}` when it sends none)."""
    try:
        async with _session(seconds) as session, session.request(
                method, target.url, json=body, params=query, headers=_headers(target),
                allow_redirects=False) as response:
            raw = await response.content.read(MAX_ANSWER)
            if response.status >= 400:
                raise UpstreamError("provider", 502, f"{target.url} answered HTTP "
                                    f"{response.status}: {error_message(raw, '')}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UpstreamError("provider", 502, f"{target.url} could not be reached: "
                                             f"{exc or type(exc).__name__}") from None
    try:
        return json.loads(raw)
    except ValueError:
        return {"success": True}


async def events(target: Managed, seconds: float) -> tuple[AsyncIterator[bytes], str]:
    """The server's event stream (chunks as they come) and its media type; a server that does
    not answer, or refuses, fails here, before anything is sent on."""
    session = _session(seconds)
    try:
        response = await session.get(target.url, headers=_headers(target))
    except (aiohttp.ClientError, TimeoutError) as exc:
        await session.close()
        raise UpstreamError("provider", 502, f"{target.url} could not be reached: "
                                             f"{exc or type(exc).__name__}") from None
    if response.status >= 400:
        response.release()
        await session.close()
        raise UpstreamError("provider", 502, f"{target.url} answered HTTP {response.status}")

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in response.content.iter_any():
                yield chunk
        finally:
            response.release()
            await session.close()

    return relay(), response.headers.get("Content-Type", "text/event-stream")
