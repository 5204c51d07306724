"""Background tasks that a service starts with itself and stops with itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("owui.background")


def every(interval: float, work: Callable[[], Awaitable[object]], *, name: str,
          now: bool = False) -> asyncio.Task[None]:
    """A task that awaits `work()` every `interval` seconds (the first time at once if `now`)
    until cancelled (stop it with `cancel_and_wait`). A run that raises is logged as
    "<name> failed" and the next runs on time: a database hiccup must not end the loop."""

    async def loop() -> None:
        if not now:
            await asyncio.sleep(interval)
        while True:
            try:
                await work()
            except Exception:
                log.exception("%s failed", name)
            await asyncio.sleep(interval)

    return asyncio.create_task(loop(), name=name)


async def cancel_and_wait(task: asyncio.Task[object] | None) -> None:
    """Cancel a background task and wait until it has ended (a task that is None: nothing)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
