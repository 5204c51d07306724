"""One pooled httpx client per service (`app.state.http`), for HTTP outside owui: providers,
web search engines, the gateway's fetch of each service's OpenAPI document. Calls between owui
services use core.client (aiohttp) instead."""

from __future__ import annotations

import httpx

from owui.core.config import Settings


def create_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.upstream_read_timeout,
                            connect=settings.upstream_connect_timeout)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    return httpx.AsyncClient(timeout=timeout, limits=limits)
