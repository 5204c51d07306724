"""Rate limits per user (or per client address), in memory or shared through Redis.

What is limited is what costs: model calls, uploads and searches each have a budget per user
(MODEL_, UPLOAD_ and SEARCH_RATE_LIMIT), sign-ins one per client address and one per account
(signin_limits.py). RATE_LIMIT, on every API request, is only a flood guard, sized so that no
person reaches it: a page load's reads and a progress bar's polling must never meet a 429.

Both stores count with the same sliding window counter (the previous fixed window's count,
weighted by how much of it still overlaps the sliding one, plus the current window's). Redis
goes through the `limits` library; in memory (one replica, the local profile) the count is kept
here, in one dict entry per key: the library's memory store did four dict look-ups, two key
formats and a timer per request, a tenth of the gateway's CPU time on a small GET (py-spy,
ARCHITECTURE.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage, Storage
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


def _storage(redis_url: str) -> Storage:
    uri = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
    return RedisStorage(uri, implementation="redispy", key_prefix="owui-ratelimit")


@dataclass(slots=True)
class _Window:
    index: int  # which fixed window (time // period) `current` counts
    current: int
    previous: int  # the count of the window before it


class LocalWindows:
    """Sliding window counters in memory, with `limits`' arithmetic (SlidingWindowCounter):
    a hit is refused when floor(weighted) + 1 exceeds the limit, and refused hits are not
    counted. Windows of keys unused for two periods are dropped once a minute."""

    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        self._windows: dict[tuple[str, int], _Window] = {}
        self._next_sweep = time.time() + self.SWEEP_SECONDS

    def _window(self, key: str, period: int, now: float) -> _Window:
        index = int(now // period)
        window = self._windows.get((key, period))
        if window is None:
            window = self._windows[(key, period)] = _Window(index, 0, 0)
        elif window.index != index:
            window.previous = window.current if window.index == index - 1 else 0
            window.current, window.index = 0, index
        return window

    @staticmethod
    def _weighted(window: _Window, period: int, now: float) -> float:
        left = period - now % period  # how much of the previous window still overlaps
        return window.previous * left / period + window.current

    def hit(self, item: RateLimitItem, key: str) -> bool:
        now = time.time()
        if now >= self._next_sweep:
            self._sweep(now)
        period = item.get_expiry()
        window = self._window(key, period, now)
        if math.floor(self._weighted(window, period, now)) + 1 > item.amount:
            return False
        window.current += 1
        return True

    def test(self, item: RateLimitItem, key: str) -> bool:
        now = time.time()
        period = item.get_expiry()
        return self._weighted(self._window(key, period, now), period, now) < item.amount

    def seconds_to_reset(self, item: RateLimitItem, key: str) -> float:
        """`limits`' reset time: when the weighted count next drops by one."""
        now = time.time()
        period = item.get_expiry()
        window = self._window(key, period, now)
        left = period - now % period
        waits = [left] if window.current else []
        if window.previous:
            waits.append(left % (period / window.previous))
        return min(waits, default=0.0)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self.SWEEP_SECONDS
        stale = [name for name, window in self._windows.items()
                 if window.index < int(now // name[1]) - 1]
        for name in stale:
            del self._windows[name]


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.local = None if settings.redis_url else LocalWindows()
        self.storage = _storage(settings.redis_url) if settings.redis_url else None
        self.limiter = SlidingWindowCounterRateLimiter(self.storage) if self.storage else None
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
        if self.local is not None:
            return None if self.local.hit(item, key) else await self._refusal(item, key)
        assert self.limiter is not None
        if await self.limiter.hit(item, key):
            return None
        return await self._refusal(item, key)

    async def refused(self, item: RateLimitItem, key: str) -> int | None:
        """None while `key` is under its limit (nothing counted); else the seconds to wait."""
        if self.local is not None:
            return None if self.local.test(item, key) else await self._refusal(item, key)
        assert self.limiter is not None
        if await self.limiter.test(item, key):
            return None
        return await self._refusal(item, key)

    async def count(self, item: RateLimitItem, key: str) -> None:
        if self.local is not None:
            self.local.hit(item, key)
            return
        assert self.limiter is not None
        await self.limiter.hit(item, key)

    async def _refusal(self, item: RateLimitItem, key: str) -> int:
        kind = key.split(":", 1)[0]
        metrics.RATE_LIMITED.labels("default" if kind in ("user", "addr") else kind).inc()
        if self.local is not None:
            return max(1, math.ceil(self.local.seconds_to_reset(item, key)))
        assert self.limiter is not None
        stats = await self.limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def check(self) -> None:
        if self.storage is not None:
            await self.storage.check()
