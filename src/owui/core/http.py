"""One pooled httpx client per service, for calls to other services and providers."""

from __future__ import annotations

from typing import Any

import httpx

from owui.core.config import Settings
from owui.core.errors import UpstreamError


def create_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.upstream_read_timeout,
                            connect=settings.upstream_connect_timeout)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    return httpx.AsyncClient(timeout=timeout, limits=limits)


async def call_service(client: httpx.AsyncClient, settings: Settings, service: str,
                       method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    """Call another service on behalf of a user (their token), naming it when it fails."""
    url = settings.service_url(service) + path
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    try:
        return await client.request(method, url, headers=headers, **kwargs)
    except httpx.TimeoutException:
        raise UpstreamError(service, 504, f"The {service} service timed out.") from None
    except httpx.TransportError:
        raise UpstreamError(service, 503, f"The {service} service is unreachable at "
                                          f"{settings.service_url(service)}.") from None
