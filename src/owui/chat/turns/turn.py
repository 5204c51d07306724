"""A turn's fifth stage, run, as the message it builds: each event of the agent's applied to the
assistant's message (`apply`) and handed to whoever listens (`publish`): the turn's events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from owui.chat.clients.agent import run_error
from owui.chat.turns.events import Event


@dataclass
class Turn:
    chat_id: str | None  # None: a turn that is not stored (Open WebUI's call without a chat)
    message_id: str
    user_id: str
    token: str
    body: dict[str, Any]  # the agent run
    extra: dict[str, Any]  # the assistant message's extra fields, as stored at the start
    model: str
    after: Callable[[Turn], Awaitable[None]] | None = None  # when it ends well (the title)
    parent_id: str | None = None
    content: str = ""
    status: str = "pending"
    error: str | None = None
    error_status: int = 502
    finish_reason: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    status_history: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    first_token_ms: float | None = None
    stop_requested: bool = False
    events: int = 0  # events the agent sent
    # Set once its first write is stored (at once for a turn that is not stored); a turn
    # whose first write failed is dropped: neither stored nor heard.
    written: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False
    listeners: set[asyncio.Queue[Event | None]] = field(default_factory=set)
    first: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    task: asyncio.Task[None] | None = None
    message: dict[str, Any] | None = None  # the final message, once stored

    def listen(self) -> asyncio.Queue[Event | None]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.listeners.add(queue)
        return queue

    def publish(self, event: Event | None) -> None:
        for queue in self.listeners:
            queue.put_nowait(event)

    def apply(self, event: Event) -> None:
        """One event of the agent's into the message being built."""
        kind = event.get("type")
        if kind == "token":
            if self.first_token_ms is None:
                self.first_token_ms = round((time.perf_counter() - self.started) * 1000, 2)
            self.content += event.get("content") or ""
        elif kind == "tool_call":
            self.tool_calls.append({k: event.get(k) for k in ("id", "name", "arguments",
                                                                "step")})
        elif kind == "tool_result":
            for call in self.tool_calls:
                if call["id"] == event.get("id"):
                    call.update(result=event.get("content"), error=event.get("error"),
                                duration_ms=event.get("duration_ms"))
        elif kind == "status":
            emitted = event.get("event") or {}  # Open WebUI keeps the status's data
            self.status_history.append(emitted.get("data") or emitted)
        elif kind == "citations":
            self.sources = list(event.get("sources") or [])
        elif kind == "done":
            self.status, self.content = "done", event.get("content") or ""
            self.usage = event.get("usage") or {}
            self.finish_reason = event.get("finish_reason")
        elif kind == "error":
            raise run_error(event)

    def final_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {**self.extra, "done": True, "status": self.status}
        optional = {"sources": self.sources, "tool_calls": self.tool_calls,
                    "statusHistory": self.status_history, "usage": self.usage}
        extra.update({k: v for k, v in optional.items() if v})
        if self.finish_reason:
            extra["finish_reason"] = self.finish_reason
        if self.error:
            extra["error"] = {"content": self.error}
        extra["timings"] = {"started_at": round(self.started_at, 3),
                            "first_token_ms": self.first_token_ms,
                            "total_ms": round((time.perf_counter() - self.started) * 1000, 2)}
        return extra
