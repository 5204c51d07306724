"""Rate limits per user (or per client address), in memory or shared through Redis."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from owui.core import metrics
from owui.core.config import Settings


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

    async def retry_after(self, item: RateLimitItem, key: str) -> int | None:
        """None when the request may pass; else the seconds to wait."""
        if await self.limiter.hit(item, key):
            return None
        metrics.RATE_LIMITED.labels("signin" if key.startswith("signin:") else "default").inc()
        stats = await self.limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def check(self) -> None:
        await self.storage.check()
