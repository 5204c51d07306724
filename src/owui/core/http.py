"""One pooled httpx client (`app.state.http`) for a service that calls HTTP outside owui (web
search engines: `create_service_app(..., outside_http=True)`). Calls between owui services use
core.client (aiohttp) instead."""

from __future__ import annotations

import httpx

from owui.core.config import Settings


def create_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.upstream_read_timeout,
                            connect=settings.upstream_connect_timeout)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    return httpx.AsyncClient(timeout=timeout, limits=limits)
