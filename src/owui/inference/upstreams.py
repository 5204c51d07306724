"""One provider connection at run time: its pooled keep-alive client, its slots, its models.

aiohttp, not httpx: the gateway's benchmark (bench/gateway.py) and bench/inference.py measured
it several times faster under concurrency on the streaming paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from owui.core.background import cancel_and_wait
from owui.core.config import Settings
from owui.inference.providers import PROVIDERS
from owui.inference.providers.base import ProviderModel, UpstreamRequest, error_message

log = logging.getLogger("owui.inference.upstreams")
# A connection whose list failed is asked again after this many seconds, not on every list.
RETRY_DOWN_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    id: str
    provider: str
    url: str
    api_key: str | None
    name: str
    prefix_id: str | None
    enabled: bool
    position: int
    # Open WebUI's connection options: only these models (all when empty), with these tags.
    model_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


class Upstream:
    def __init__(self, config: ConnectionConfig, settings: Settings) -> None:
        self.config = config
        self.provider = PROVIDERS[config.provider]
        self.base = config.url.rstrip("/")
        self.cap = settings.inference_max_in_flight
        self.connect_timeout = settings.upstream_connect_timeout
        self.read_timeout = settings.upstream_read_timeout
        self.slots = asyncio.Semaphore(self.cap)
        self.in_flight = 0
        self.models: list[ProviderModel] = []
        self.fetched_at = 0.0
        self.status = "unknown"  # ok | down | unknown
        self.error: str | None = None
        self._refreshing: asyncio.Task[None] | None = None
        self._urls: dict[str, URL] = {}
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.cap, keepalive_timeout=60,
                                           ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=None, connect=self.connect_timeout,
                                          sock_read=self.read_timeout),
            headers=self.provider.headers(config.api_key),
            cookie_jar=aiohttp.DummyCookieJar(), read_bufsize=1 << 20,
            skip_auto_headers=("User-Agent",),
        )

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def label(self) -> str:
        return self.config.name or self.base

    def url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self.base + path)
        return url

    def open(self, request: UpstreamRequest, query: str = "",
             timeout: aiohttp.ClientTimeout | None = None) -> Any:
        url = self.url(request.path)
        if query:
            url = URL(f"{url}?{query}", encoded=True)
        kwargs = {"timeout": timeout} if timeout is not None else {}
        return self.session.request(request.method, url, data=request.body,
                                    allow_redirects=False, **kwargs)

    async def acquire(self, wait: float) -> bool:
        """A slot for one request, waiting up to `wait` seconds when the cap is reached."""
        if self.slots.locked():  # only a full connection pays for the timer
            try:
                await asyncio.wait_for(self.slots.acquire(), wait)
            except TimeoutError:
                return False
        else:
            await self.slots.acquire()
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight -= 1
        self.slots.release()

    def stale(self, ttl: float) -> bool:
        age = time.monotonic() - self.fetched_at
        return age >= (RETRY_DOWN_AFTER if self.status == "down" else ttl)

    def refresh(self) -> asyncio.Task[None]:
        """Ask the provider for its models; one request at a time, however many wait."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._fetch_models())
        return self._refreshing

    async def _fetch_models(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.connect_timeout + 10,
                                        connect=self.connect_timeout)
        try:
            async with self.open(self.provider.models_request(), timeout=timeout) as response:
                body = await response.read()
                if response.status >= 400:
                    raise ValueError(f"HTTP {response.status}: "
                                     f"{error_message(body, response.reason or '')}")
                listed = self.provider.parse_models(await response.json(content_type=None))
                wanted = set(self.config.model_ids)
                self.models = [m for m in listed if not wanted or m.id in wanted]
            self.status, self.error = "ok", None
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            self.status = "down"
            self.error = str(exc) or type(exc).__name__
            log.warning("connection %s (%s) is down: %s", self.id, self.base, self.error)
        self.fetched_at = time.monotonic()

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # whatever the last refresh raised, close
            await cancel_and_wait(self._refreshing)
        await self.session.close()
