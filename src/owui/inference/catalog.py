"""Every connection's models, merged: which connections serve a model id, and the list.

Model lists are cached per connection for MODELS_CACHE_TTL seconds. Stale ones are asked again
all at once, and the list answers after at most the connect timeout: a connection that has not
answered by then is marked down and its models left out. One already known down is asked again
in the background only, so a dead host holds up at most one list, by at most that timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from owui.core.config import Settings
from owui.core.live_config import LiveConfig
from owui.inference.providers.base import ProviderModel
from owui.inference.upstreams import ConnectionConfig, Upstream

# An unknown model id asks the providers again, but not more often than this (seconds).
MISS_REFRESH_GAP = 2.0


@dataclass(frozen=True, slots=True)
class Target:
    """One connection that serves a model, and the model's name there."""

    upstream: Upstream
    model: str


@dataclass(frozen=True, slots=True)
class Listed:
    """A model in the merged list: the first connection's entry and every connection."""

    id: str
    model: ProviderModel
    upstreams: tuple[Upstream, ...]


class Catalog:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ttl = settings.models_cache_ttl
        self.wait = settings.upstream_connect_timeout
        self.upstreams: dict[str, Upstream] = {}
        self._index: dict[str, list[Target]] = {}
        self._last_miss_refresh = 0.0
        self._miss_refresh: asyncio.Future[None] | None = None
        # The providers' switches, once the service's live settings run (live.attach).
        self.live: LiveConfig | None = None
        self.stoppers: list[Callable[[], Awaitable[object]]] = []

    async def load(self, configs: list[ConnectionConfig]) -> None:
        """Take a new set of connections; unchanged ones keep their pools and caches."""
        kept: dict[str, Upstream] = {}
        for config in sorted(configs, key=lambda c: (c.position, c.id)):
            current = self.upstreams.get(config.id)
            if current is not None and current.config == config:
                kept[config.id] = current
            else:
                kept[config.id] = Upstream(config, self.settings)
        gone = [u for key, u in self.upstreams.items() if kept.get(key) is not u]
        self.upstreams = kept
        self._reindex()
        for upstream in gone:
            await upstream.close()

    async def close(self) -> None:
        for upstream in self.upstreams.values():
            await upstream.close()
        self.upstreams = {}

    def provider_on(self, provider: str) -> bool:
        """Open WebUI's ENABLE_OPENAI_API / ENABLE_OLLAMA_API, as the admin set them last."""
        key = "ENABLE_OPENAI_API" if provider == "openai" else "ENABLE_OLLAMA_API"
        return True if self.live is None else bool(self.live.get(key, True))

    def enabled(self, provider: str | None = None) -> list[Upstream]:
        return [u for u in self.upstreams.values() if u.config.enabled
                and (provider is None or u.config.provider == provider)
                and self.provider_on(u.config.provider)]

    async def refresh(self, force: bool = False, wait_for_down: bool | None = None) -> None:
        """Ask stale connections (all, if `force`) for their models; wait at most `wait`.
        A connection known down is asked in the background and not waited for, unless
        `wait_for_down` (by default: when forced, i.e. refreshed on demand)."""
        wait_for_down = force if wait_for_down is None else wait_for_down
        asked = {u: u.refresh() for u in self.enabled() if force or u.stale(self.ttl)}
        awaited = [task for u, task in asked.items() if wait_for_down or u.status != "down"]
        if awaited:
            await asyncio.wait(awaited, timeout=self.wait)
        for upstream, task in asked.items():
            if not task.done():  # still trying: down until it answers
                upstream.status = "down"
                upstream.error = f"no answer within {self.wait:g} s"
                task.add_done_callback(lambda _t: self._reindex())
        self._reindex()

    def _reindex(self) -> None:
        index: dict[str, list[Target]] = {}
        for upstream in self.enabled():
            for model in upstream.models:
                index.setdefault(exposed_id(upstream, model.id), []).append(
                    Target(upstream, model.id))
        self._index = index

    def listing(self) -> list[Listed]:
        """Models of the connections that answered, in connection order; a model served by
        several connections is listed once."""
        merged: dict[str, Listed] = {}
        for upstream in self.enabled():
            if upstream.status != "ok":
                continue
            for model in upstream.models:
                key = exposed_id(upstream, model.id)
                found = merged.get(key)
                merged[key] = (Listed(key, model, (upstream,)) if found is None else
                               Listed(key, found.model, (*found.upstreams, upstream)))
        return list(merged.values())

    async def targets(self, model_id: str) -> list[Target]:
        """Connections serving `model_id`; asks the providers again once if none is known."""
        found = self.cached_targets(model_id)
        if found:
            return found
        # Calls that miss while a refresh runs wait for it too (at a cold start, the first
        # calls all miss at once: only one would have waited, the others answered 404).
        now = time.monotonic()
        if self._miss_refresh is None or (self._miss_refresh.done() and
                                          now - self._last_miss_refresh >= MISS_REFRESH_GAP):
            self._last_miss_refresh = now
            self._miss_refresh = asyncio.ensure_future(
                self.refresh(force=True, wait_for_down=False))
        await asyncio.shield(self._miss_refresh)
        return self.cached_targets(model_id)

    def cached_targets(self, model_id: str) -> list[Target]:
        found = self._index.get(model_id)
        if found is None and ":" not in model_id:  # Ollama's "llama3" is "llama3:latest"
            found = self._index.get(f"{model_id}:latest")
        return found or []


def exposed_id(upstream: Upstream, model: str) -> str:
    prefix = upstream.config.prefix_id
    return f"{prefix}.{model}" if prefix else model
