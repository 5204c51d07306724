"""The reverse proxy: forwards by path prefix, streams both ways, never buffers a stream.

aiohttp's client, not httpx's: measured in bench/gateway.py, it adds a fraction of the latency
under concurrency. A client that goes away cancels the upstream request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from starlette.types import Receive, Scope, Send
from yarl import URL

from owui.core.asgi import send_error
from owui.core.config import Settings
from owui.core.services import SERVICES
from owui.core.tls import client_context
from owui.gateway.guard import BUFFER_LIMIT, BodyRejected, stream_body

log = logging.getLogger("owui.gateway.proxy")

# Never forwarded: hop-by-hop headers, what we set ourselves, and identity claims from outside.
_DROP_REQUEST = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
    b"trailer", b"transfer-encoding", b"upgrade", b"host", b"content-length", b"authorization",
    b"x-request-id", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host",
    b"forwarded", b"remote-user", b"x-remote-user", b"x-forwarded-user", b"x-auth-request-user",
    b"x-auth-request-email",
})
_IDENTITY_PREFIXES = (b"x-owui-", b"x-user-")
_DROP_RESPONSE = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"upgrade",
                            b"proxy-authenticate", b"trailer", b"x-request-id"})
# Seconds a client is told to wait when a service is unreachable: a container brought back by
# its restart policy, or a replica restarting, answers again within a few seconds.
UNREACHABLE_RETRY_AFTER = 3
RETRY_AFTER_HEADER = (b"retry-after", str(UNREACHABLE_RETRY_AFTER).encode())


@dataclass(frozen=True, slots=True)
class Route:
    prefix: str
    service: str
    base_url: str | None  # None: served by the gateway itself


def build_routes(settings: Settings) -> list[Route]:
    routes = [Route(prefix, s.name, settings.service_url(s.name) if s.url_variable else None)
              for s in SERVICES for prefix in s.prefixes]
    return sorted(routes, key=lambda r: len(r.prefix), reverse=True)


def is_identity_header(name: bytes) -> bool:
    return name.startswith(_IDENTITY_PREFIXES) or name in _DROP_REQUEST


class Proxy:
    def __init__(self, settings: Settings) -> None:
        self.routes = build_routes(settings)
        self.max_body = int(settings.max_body_size)
        self.connect_timeout = settings.upstream_connect_timeout
        self.read_timeout = settings.upstream_read_timeout
        self.ssl_context = client_context(settings)
        self.session: aiohttp.ClientSession | None = None

    def route(self, path: str) -> Route | None:
        for route in self.routes:
            prefix = route.prefix
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                return route
        return None

    async def start(self) -> None:
        # https:// service URLs verified against OWUI_TLS_CA, our client certificate for
        # mutual TLS (core/tls.py).
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60, ttl_dns_cache=300,
                                         ssl=self.ssl_context if self.ssl_context else True)
        timeout = aiohttp.ClientTimeout(total=None, connect=self.connect_timeout,
                                        sock_read=self.read_timeout)
        self.session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=("User-Agent",),
        )

    async def close(self) -> None:
        if self.session:
            await self.session.close()

    def _headers(self, scope: Scope, token: str,
                 streamed_length: str | None) -> list[tuple[str, str]]:
        """The request's headers for the service. A list, not a multidict: aiohttp copies
        whatever it is given into its own, and every name we add here was dropped above."""
        headers: list[tuple[str, str]] = []
        host = forwarded_for = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1")
            if not is_identity_header(name):
                headers.append((name.decode("latin-1"), value.decode("latin-1")))
        client = scope.get("client")
        if client:
            forwarded_for = f"{forwarded_for}, {client[0]}" if forwarded_for else client[0]
        if forwarded_for:
            headers.append(("X-Forwarded-For", forwarded_for))
        if host:
            headers.append(("X-Forwarded-Host", host))
        state = scope["state"]
        headers += [("X-Forwarded-Proto", scope.get("scheme", "http")),
                    ("X-Request-ID", state["request_id"]), ("Authorization", f"Bearer {token}")]
        access = state.get("access")  # X-Owui-Access from outside was dropped above
        if access is not None:
            headers.append(("X-Owui-Access", access))
        if streamed_length is not None:
            headers.append(("Content-Length", streamed_length))
        return headers

    async def forward(self, scope: Scope, receive: Receive, send: Send, route: Route,
                      token: str, body: bytes | None, declared_length: str | None) -> None:
        """Forward one request; `body` None means stream it from `receive`."""
        assert route.base_url is not None
        query = scope.get("query_string", b"")
        target = route.base_url + scope["raw_path"].decode("latin-1")
        url = URL(f"{target}?{query.decode('latin-1')}" if query else target, encoded=True)
        headers = self._headers(scope, token, declared_length if body is None else None)
        exchange = _Exchange(receive, send)
        if body is not None:
            exchange.watch()
        try:
            for attempt in (1, 2):
                data = body if body is not None else stream_body(receive, self.max_body)
                try:
                    await self._exchange(exchange, scope["method"], url, headers, data)
                    return
                except aiohttp.ServerDisconnectedError:
                    # A pooled connection closed by the upstream just as we reused it.
                    if exchange.started or body is None or attempt == 2:
                        raise
        except asyncio.CancelledError:
            if not exchange.disconnected:
                raise
            exchange.task.uncancel()
            log.info("client went away; cancelled the request to %s", route.service)
        except Exception as exc:
            status, detail = _failure(exc, route)
            if exchange.started:
                log.warning("%s broke off its response: %s", route.service, detail)
            else:
                await send_error(send, status, detail,
                                 [RETRY_AFTER_HEADER] if status == 503 else ())
        finally:
            exchange.stop_watching()

    async def _exchange(self, exchange: _Exchange, method: str, url: URL,
                        headers: list[tuple[str, str]], data: object) -> None:
        assert self.session is not None
        async with self.session.request(method, url, headers=headers, data=data,
                                        allow_redirects=False) as response:
            exchange.watch()  # once the body is up, only a disconnect can arrive
            out = [(name.lower(), value) for name, value in response.raw_headers
                   if name.lower() not in _DROP_RESPONSE]
            send = exchange.send
            await send({"type": "http.response.start", "status": response.status, "headers": out})
            exchange.started = True
            length = response.content_length
            if length is not None and length <= BUFFER_LIMIT:
                await send({"type": "http.response.body", "body": await response.read()})
                return
            async for chunk in response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})


class _Exchange:
    """One forwarded request's state: has the response started, has the client gone."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self.receive = receive
        self.send = send
        self.started = False
        self.disconnected = False
        task = asyncio.current_task()
        assert task is not None
        self.task = task
        self._watcher: asyncio.Task[None] | None = None

    def watch(self) -> None:
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch_disconnect())

    def stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()

    async def _watch_disconnect(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        self.task.cancel()


def _failure(exc: BaseException, route: Route) -> tuple[int, str]:
    """The status and message a client gets when forwarding failed before the response."""
    cause = exc.__cause__ if isinstance(exc, aiohttp.ClientError) else exc
    if isinstance(cause, BodyRejected):
        return cause.status, cause.detail
    if isinstance(exc, aiohttp.ClientSSLError):  # a ClientConnectorError, but no outage
        return 502, (f"The TLS handshake with the {route.service} service at {route.base_url} "
                     f"failed: {exc.os_error}.")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return 503, f"The {route.service} service is unreachable at {route.base_url}."
    if isinstance(exc, TimeoutError):
        return 504, f"The {route.service} service did not answer in time."
    if isinstance(exc, aiohttp.ClientError):
        return 502, f"The {route.service} service failed: {exc.__class__.__name__}."
    raise exc
