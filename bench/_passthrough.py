"""A minimal raw-ASGI pass-through, for bench/proxy_clients.py, with one HTTP client or another.

    PASSTHROUGH_CLIENT=aiohttp|httpx PASSTHROUGH_UPSTREAM=http://127.0.0.1:PORT \\
        uvicorn _passthrough:app --app-dir bench --loop uvloop --http httptools

Forwards every request as it is (method, path, query, headers, body) to the upstream over a
pooled client and streams the response back chunk by chunk.
"""

from __future__ import annotations

import os
from typing import Protocol

import aiohttp
import httpx
from starlette.types import Message, Receive, Scope, Send

UPSTREAM = os.environ.get("PASSTHROUGH_UPSTREAM", "http://127.0.0.1:8004").rstrip("/")
CLIENT = os.environ.get("PASSTHROUGH_CLIENT", "aiohttp")
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade", "te",
                         "trailer", "proxy-authenticate", "proxy-authorization", "host"})


class Forwarder(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def forward(self, method: str, url: str, headers: list[tuple[str, str]],
                      body: bytes, send: Send) -> None: ...


def _start(status: int, headers: list[tuple[str, str]]) -> Message:
    return {"type": "http.response.start", "status": status,
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers
                        if k.lower() not in _HOP_BY_HOP]}


class AiohttpForwarder:
    session: aiohttp.ClientSession

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar())

    async def close(self) -> None:
        await self.session.close()

    async def forward(self, method: str, url: str, headers: list[tuple[str, str]],
                      body: bytes, send: Send) -> None:
        async with self.session.request(method, url, headers=headers, data=body or None,
                                        allow_redirects=False) as response:
            await send(_start(response.status, list(response.headers.items())))
            async for chunk in response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


class HttpxForwarder:
    client: httpx.AsyncClient

    async def start(self) -> None:
        self.client = httpx.AsyncClient(
            timeout=30, trust_env=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))

    async def close(self) -> None:
        await self.client.aclose()

    async def forward(self, method: str, url: str, headers: list[tuple[str, str]],
                      body: bytes, send: Send) -> None:
        request = self.client.build_request(method, url, headers=headers, content=body)
        response = await self.client.send(request, stream=True)
        try:
            await send(_start(response.status_code, list(response.headers.multi_items())))
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            await response.aclose()
        await send({"type": "http.response.body", "body": b""})


FORWARDER: Forwarder = HttpxForwarder() if CLIENT == "httpx" else AiohttpForwarder()


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await FORWARDER.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await FORWARDER.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    query = scope["query_string"].decode("latin-1")
    url = UPSTREAM + scope["raw_path"].decode("latin-1") + (f"?{query}" if query else "")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
               if k.decode("latin-1") not in _HOP_BY_HOP and k != b"content-length"]
    await FORWARDER.forward(scope["method"], url, headers, await _read_body(receive), send)
