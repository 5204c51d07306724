"""A socket.io client as the web app uses it (python-socketio's AsyncClient, websocket
transport, `auth: {token}`), keeping every `events` payload it hears."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio

PATH = "ws/socket.io"


class Socket:
    def __init__(self, http: aiohttp.ClientSession | None = None) -> None:
        # The client's HTTP session is ours to close, also when the connect was refused
        # (made in the test's running loop).
        self.owned = http is None
        self.http = http or aiohttp.ClientSession()
        self.client = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.events: list[dict[str, Any]] = []
        self.refusal: Any = None  # what the server said when it refused the connect
        self.client.on("events", self._heard)
        self.client.on("connect_error", self._refused)

    async def _refused(self, data: Any) -> None:
        self.refusal = data

    async def _heard(self, payload: dict[str, Any]) -> None:
        self.events.append(payload)

    async def connect(self, base: str, token: str | None, upgrade: str | None = None,
                      transport: str = "websocket") -> Socket:
        """`upgrade`: the token the upgrade request carries (what the gateway passes on); by
        default the same as `auth.token`."""
        upgrade = upgrade or token
        headers = {"Authorization": f"Bearer {upgrade}"} if upgrade else {}
        try:
            await self.client.connect(base, headers=headers, auth={"token": token},
                                      transports=[transport], socketio_path=PATH,
                                      wait_timeout=10)
        except BaseException:
            await self._close_http()
            raise
        return self

    async def _close_http(self) -> None:
        if self.owned:
            await self.http.close()

    async def call(self, event: str, data: Any) -> Any:
        return await self.client.call(event, data, timeout=10)

    async def close(self) -> None:
        await self.client.disconnect()
        await self._close_http()

    def of(self, chat_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("chat_id") == chat_id]

    async def wait_for(self, done: Callable[[list[dict[str, Any]]], bool],
                       within: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while not done(self.events):
            if time.monotonic() > deadline:
                kinds = [e["data"]["type"] for e in self.events]
                raise AssertionError(f"not heard in {within} s; heard {kinds}")
            await asyncio.sleep(0.02)
        return self.events


async def connected(base: str, token: str | None, **kwargs: Any) -> Socket:
    return await Socket().connect(base, token, **kwargs)
