"""The in-memory rate limits (gateway/ratelimit.py LocalWindows) count as `limits`' sliding
window counter does, the one Redis goes through: the same verdict on every hit and test, and
the same wait, over random traffic on a clock the test moves; unused windows are dropped."""

from __future__ import annotations

import random
from unittest import mock

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from owui.gateway.ratelimit import LocalWindows


async def test_same_verdicts_and_waits_as_limits() -> None:
    item = parse("5/minute")
    clock = [1_000_000.0]
    rng = random.Random(19)
    with mock.patch("time.time", lambda: clock[0]):
        reference = SlidingWindowCounterRateLimiter(MemoryStorage())
        local = LocalWindows()
        for _ in range(2000):
            clock[0] += rng.choice([0.1, 1, 3, 7, 20, 45])
            key = rng.choice("ab")
            if rng.random() < 0.7:
                assert local.hit(item, key) == await reference.hit(item, key)
            else:
                assert local.test(item, key) == await reference.test(item, key)
            stats = await reference.get_window_stats(item, key)
            expected = max(0.0, stats.reset_time - clock[0])
            assert abs(local.seconds_to_reset(item, key) - expected) < 1e-6


def test_refused_hits_are_not_counted_and_unused_windows_are_dropped() -> None:
    item = parse("2/minute")
    clock = [6_000_000.0]  # the start of a window
    with mock.patch("time.time", lambda: clock[0]):
        local = LocalWindows()
        assert [local.hit(item, "k") for _ in range(4)] == [True, True, False, False]
        clock[0] += 120  # two windows later: nothing counted is left
        assert local.hit(item, "k")
        clock[0] += 3 * LocalWindows.SWEEP_SECONDS
        local.hit(item, "other")  # a hit after a sweep is due runs it
        assert list(local._windows) == [("other", 60)]
