"""WebSocket pass-through for the web app's socket.io (`/ws/socket.io`, served by chat).

The gateway authenticates the upgrade itself, as any request (the `token` cookie, a bearer
header, or, for a client that has neither, a `token` query parameter), with revocation, rate
limits and the cookie's same-origin rule, and only then opens the socket to the service behind
and passes frames both ways, close codes included. Each open socket remembers whose token it
carries: once that token is revoked (sign-out, deleted account, role change) the sweep that
follows each revocation sync closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import aiohttp
from starlette.types import Receive, Scope, Send
from yarl import URL

from owui.core.asgi import header
from owui.core.tokens import Claims
from owui.gateway.proxy import RETRY_AFTER_HEADER, Proxy, is_identity_header
from owui.gateway.revocations import Revocations

log = logging.getLogger("owui.gateway.sockets")
REVOKED = 4401  # an application close code: the credential was revoked or expired
_GOING_AWAY = 1001
_UPSTREAM_FAILED = 1011
# Codes that say a connection ended without a close frame: never sent in one (RFC 6455, 7.4.1).
_NOT_SENDABLE = frozenset({1005, 1006, 1015})


def _sendable(code: int | None, instead: int) -> int:
    return instead if code is None or code in _NOT_SENDABLE else code


@dataclass(eq=False)
class Link:
    """One proxied socket: whose credential it carries, and how to end it."""

    claims: Claims
    api_key_id: str | None
    task: asyncio.Task[None]
    closed_for: int | None = field(default=None)

    def revoked(self, revocations: Revocations, now: float) -> bool:
        claims = self.claims
        if self.api_key_id is not None:  # a key's minted token is short-lived: check the key
            return revocations.is_key_revoked(self.api_key_id, claims.sub, claims.iat)
        return claims.exp <= now or revocations.is_revoked(claims)


class SocketProxy:
    def __init__(self, proxy: Proxy, max_message: int) -> None:
        self.proxy = proxy
        self.max_message = max_message
        self.links: set[Link] = set()

    def close_revoked(self, revocations: Revocations) -> int:
        """End every socket whose credential is no longer good; how many were ended."""
        now = time.time()
        ended = 0
        for link in list(self.links):
            if link.closed_for is None and link.revoked(revocations, now):
                link.closed_for = REVOKED
                link.task.cancel()
                ended += 1
        return ended

    async def close_all(self) -> None:
        for link in list(self.links):
            link.closed_for = _GOING_AWAY
            link.task.cancel()
        await asyncio.gather(*(link.task for link in list(self.links)), return_exceptions=True)

    async def serve(self, scope: Scope, receive: Receive, send: Send, claims: Claims,
                    token: str, api_key_id: str | None) -> None:
        """Open the upstream socket, accept the client, pass frames until either side ends."""
        route = self.proxy.route(scope["path"])
        assert route is not None and route.base_url is not None and self.proxy.session
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                              keep_blank_values=True) if k != "token"]
        target = route.base_url + scope["raw_path"].decode("latin-1")
        url = URL(f"{target}?{urlencode(query)}" if query else target, encoded=True)
        try:
            upstream = await self.proxy.session.ws_connect(
                url, headers=self._headers(scope, token),
                protocols=scope.get("subprotocols", ()), max_msg_size=self.max_message,
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0), autoping=True)
        except aiohttp.WSServerHandshakeError as exc:
            await reject(scope, send, exc.status if exc.status >= 400 else 502,
                         f"The {route.service} service refused the socket ({exc.status}).")
            return
        except (aiohttp.ClientError, TimeoutError):
            await reject(scope, send, 503, f"The {route.service} service is unreachable at "
                                           f"{route.base_url}.", [RETRY_AFTER_HEADER])
            return
        task = asyncio.current_task()
        assert task is not None
        link = Link(claims, api_key_id, task)
        self.links.add(link)
        try:
            await send({"type": "websocket.accept", "subprotocol": upstream.protocol})
            await _pump(receive, send, upstream)
        except asyncio.CancelledError:
            if link.closed_for is None:
                raise
            task.uncancel()
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": link.closed_for,
                            "reason": "credentials revoked" if link.closed_for == REVOKED
                            else "server shutting down"})
        finally:
            self.links.discard(link)
            await upstream.close()

    def _headers(self, scope: Scope, token: str) -> dict[str, str]:
        headers = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"]
                   if not is_identity_header(name) and not name.startswith(b"sec-websocket")
                   and name != b"cookie"}
        client = scope.get("client")
        if client:
            headers["X-Forwarded-For"] = client[0]
        headers["X-Forwarded-Proto"] = scope.get("scheme", "ws")
        headers["Authorization"] = f"Bearer {token}"
        request_id = header(scope, b"x-request-id")
        if request_id:
            headers["X-Request-ID"] = request_id
        return headers


async def _pump(receive: Receive, send: Send, upstream: aiohttp.ClientWebSocketResponse) -> None:
    """Frames both ways; the first side to close ends both, its close code passed on."""

    async def from_client() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(code=_sendable(message.get("code"), 1000))
                return
            if message.get("text") is not None:
                await upstream.send_str(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send_bytes(message["bytes"])

    async def from_upstream() -> None:
        async for frame in upstream:
            if frame.type == aiohttp.WSMsgType.TEXT:
                await send({"type": "websocket.send", "text": frame.data})
            elif frame.type == aiohttp.WSMsgType.BINARY:
                await send({"type": "websocket.send", "bytes": frame.data})
            elif frame.type == aiohttp.WSMsgType.ERROR:
                break
        code = _sendable(upstream.close_code, _UPSTREAM_FAILED)
        with contextlib.suppress(Exception):  # the client may have gone at the same moment
            await send({"type": "websocket.close", "code": code})

    tasks = [asyncio.create_task(from_client()), asyncio.create_task(from_upstream())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def reject(scope: Scope, send: Send, status: int, detail: str,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Refuse an upgrade with an HTTP answer where the server can send one, else a close."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                *(headers or [])]})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
