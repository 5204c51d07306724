"""A turn's last stage for its caller, respond: the turn's events as they come (a stream that
only listens: a client that leaves stops listening, the turn goes on), or the finished message.
A run the agent refused before its first event answers with the agent's status, as JSON.

`Begun.events()` is the turn's events for any listener (the SSE stream here; another transport
may relay them as well)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse, Response, StreamingResponse

from owui.chat.responses import Json
from owui.chat.turns.events import DONE, Event
from owui.chat.turns.turn import Turn

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass
class Begun:
    """A turn that has begun, and one listener of it (listening since before the run)."""

    turn: Turn
    start: Event  # the first event: the stored messages
    queue: asyncio.Queue[Event | None]

    async def refused(self) -> bool:
        """Whether the agent refused the run before its first event (known once that event
        came, or the run ended without one)."""
        await asyncio.shield(self.turn.first)
        return self.turn.events == 0 and self.turn.status == "error"

    async def finished(self) -> dict[str, Any]:
        """The stored message, once the turn ended (not listening any more)."""
        self.stop_listening()
        assert self.turn.task is not None
        await asyncio.shield(self.turn.task)
        return self.turn.message or {}

    async def events(self) -> AsyncIterator[Event]:
        """`start`, then the turn's events, up to its `done` or `error`."""
        try:
            yield self.start
            while (event := await self.queue.get()) is not None:
                yield event
        finally:
            self.stop_listening()

    def stop_listening(self) -> None:
        self.turn.listeners.discard(self.queue)


async def respond(begun: Begun, stream: bool, encode: Callable[[Event], bytes],
                  final: Callable[[dict[str, Any]], Any]) -> Response:
    """SSE of `encode`d events when `stream`, else the `final` shape of the stored message."""
    if await begun.refused():
        begun.stop_listening()
        return JSONResponse({"detail": begun.turn.error}, begun.turn.error_status)
    if not stream:
        return Json(final(await begun.finished()))

    async def body() -> AsyncIterator[bytes]:
        async for event in begun.events():
            yield encode(event)
        yield DONE

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)
