"""The retrieval service's background tasks (ingestion jobs, index upkeep, the expiry sweep):
kept referenced while they run, and all cancelled and awaited when the service stops."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from owui.core.background import cancel_and_wait


class Tasks:
    def __init__(self) -> None:
        # The event loop keeps only weak references to tasks: this set keeps them alive.
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return self.keep(asyncio.create_task(coro, name=name))

    def keep(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """A task made elsewhere (core.background.every), stopped with the others."""
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def close(self) -> None:
        # All at once; a task that had failed does not keep the others from stopping.
        await asyncio.gather(*(cancel_and_wait(task) for task in list(self._running)),
                             return_exceptions=True)
