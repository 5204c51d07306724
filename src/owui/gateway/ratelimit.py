"""Rate limits per user (or per client address), in memory or shared through Redis.

What is limited is what costs: model calls, uploads and searches each have a budget per user
(MODEL_, UPLOAD_ and SEARCH_RATE_LIMIT), sign-ins one per client address and one per account
(signin_limits.py). RATE_LIMIT, on every API request, is only a flood guard, sized so that no
person reaches it: a page load's reads and a progress bar's polling must never meet a 429.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from owui.core import metrics
from owui.core.config import Settings

MODEL, UPLOAD, SEARCH = "model", "upload", "search"
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_UPLOAD_PATHS = frozenset({"/api/v1/files", "/api/v1/files/", "/api/v1/pipelines/upload",
                           "/ollama/models/upload", "/api/v1/audio/transcriptions"})
_SEARCH_PREFIXES = ("/api/v1/retrieval/query/", "/api/v1/retrieval/process/web",
                    "/api/v1/retrieval/process/url", "/api/v1/retrieval/process/youtube",
                    "/api/v1/memories/query", "/api/v1/memories/search")
_MODEL_PREFIXES = ("/ollama/", "/openai/", "/api/v1/messages", "/api/message", "/api/embeddings",
                   "/api/v1/embeddings", "/api/v1/chat/", "/api/chat/actions/",
                   "/api/v1/agents/tasks", "/api/v1/agents/code/", "/api/v1/utils/code/")
_MODEL_SUFFIXES = ("/completions", "/runs", "/rag")


def cost_of(method: str, path: str) -> str | None:
    """The budget a request draws on; None for what costs too little to count (reads,
    renames, pins: the services' own capacity is their guard)."""
    if method in _READS:
        return None
    if path in _UPLOAD_PATHS or path.startswith("/ollama/models/upload/"):
        return UPLOAD
    if path.startswith(_SEARCH_PREFIXES):
        return SEARCH
    if path.startswith(_MODEL_PREFIXES) or path.endswith(_MODEL_SUFFIXES) \
            or "/completions/" in path:
        return MODEL
    return None


def _storage(redis_url: str | None) -> Storage:
    if not redis_url:
        return MemoryStorage()
    uri = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
    return RedisStorage(uri, implementation="redispy", key_prefix="owui-ratelimit")


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.storage = _storage(settings.redis_url)
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self.default = parse(settings.rate_limit)
        self.signin = parse(settings.signin_rate_limit)
        self.signin_account = parse(settings.signin_account_rate_limit)
        self.costs: dict[str, RateLimitItem] = {
            MODEL: parse(settings.model_rate_limit),
            UPLOAD: parse(settings.upload_rate_limit),
            SEARCH: parse(settings.search_rate_limit),
        }

    async def retry_after(self, item: RateLimitItem, key: str) -> int | None:
        """Counts one request: None when it may pass; else the seconds to wait."""
        if await self.limiter.hit(item, key):
            return None
        return await self._refusal(item, key)

    async def refused(self, item: RateLimitItem, key: str) -> int | None:
        """None while `key` is under its limit (nothing counted); else the seconds to wait."""
        if await self.limiter.test(item, key):
            return None
        return await self._refusal(item, key)

    async def count(self, item: RateLimitItem, key: str) -> None:
        await self.limiter.hit(item, key)

    async def _refusal(self, item: RateLimitItem, key: str) -> int:
        kind = key.split(":", 1)[0]
        metrics.RATE_LIMITED.labels("default" if kind in ("user", "addr") else kind).inc()
        stats = await self.limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def check(self) -> None:
        await self.storage.check()
