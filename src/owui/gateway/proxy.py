"""The reverse proxy: forwards by path prefix, streams both ways, never buffers a stream.

A request whose body is read (or that has none) to a service over plain http goes through the
proxy's own HTTP/1.1 client (upstream.py: a fifth of aiohttp's CPU time a request); streamed
request bodies, HEAD, https services, and everything while tracing is on (its client spans and
`traceparent` come with aiohttp's instrumentation) through aiohttp's client (not httpx's:
measured in bench/gateway.py, it adds a fraction of the latency under concurrency). A client
that goes away cancels the upstream request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from starlette.types import Receive, Scope, Send
from yarl import URL

from owui.core import tracing
from owui.core.asgi import send_error
from owui.core.config import Settings
from owui.core.services import SERVICES
from owui.core.tls import client_context
from owui.gateway.guard import BUFFER_LIMIT, BodyRejected, stream_body
from owui.gateway.upstream import Connection, Pool, UpstreamBroken, UpstreamUnreachable

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
# A request still unanswered after this many seconds starts watching for its client leaving.
WATCH_AFTER = 0.05


# Methods the proxy's own client leaves to aiohttp: a HEAD answer's length is no body's.
_AIOHTTP_METHODS = frozenset({"HEAD", "CONNECT"})
# An empty body is sent with `Content-Length: 0` for these (as aiohttp does).
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class Address:
    """Where a plain-http service listens, for the proxy's own client."""
    host: str
    port: int
    host_header: bytes


@dataclass(frozen=True, slots=True)
class Route:
    prefix: str
    service: str
    base_url: str | None  # None: served by the gateway itself
    address: Address | None = None  # None: https, or a base path: aiohttp's client


def address_of(base_url: str) -> Address | None:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        return None
    return Address(parts.hostname, parts.port or 80, parts.netloc.encode("latin-1"))


def build_routes(settings: Settings) -> list[Route]:
    routes = []
    for service in SERVICES:
        base_url = settings.service_url(service.name) if service.url_variable else None
        address = address_of(base_url) if base_url else None
        routes += [Route(prefix, service.name, base_url, address) for prefix in service.prefixes]
    return sorted(routes, key=lambda r: len(r.prefix), reverse=True)


def is_identity_header(name: bytes) -> bool:
    return name.startswith(_IDENTITY_PREFIXES) or name in _DROP_REQUEST


# What the proxy does with a request header, by name, decided once per name (a dict look-up is
# half the cost of the checks above, for each of a browser's dozen headers on every request).
_PASS, _DROP, _HOST, _FORWARDED_FOR, _EXPECT = range(5)
_SEEN_HEADERS: dict[bytes, int] = {}
_MAX_SEEN_HEADERS = 4096  # names are the client's choice: the memo must not grow without end


def _header_kind(name: bytes) -> int:
    kind = _SEEN_HEADERS.get(name)
    if kind is None:
        kind = {b"host": _HOST, b"x-forwarded-for": _FORWARDED_FOR, b"expect": _EXPECT}.get(
            name, _DROP if is_identity_header(name) else _PASS)
        if len(_SEEN_HEADERS) < _MAX_SEEN_HEADERS:
            _SEEN_HEADERS[name] = kind
    return kind


class Proxy:
    def __init__(self, settings: Settings) -> None:
        self.routes = build_routes(settings)
        self._by_prefix: dict[str, Route] = {}
        for route in self.routes:
            self._by_prefix.setdefault(route.prefix, route)
        self.max_body = int(settings.max_body_size)
        self.connect_timeout = settings.upstream_connect_timeout
        self.read_timeout = settings.upstream_read_timeout
        self.ssl_context = client_context(settings)
        self.session: aiohttp.ClientSession | None = None
        self.pool = Pool(self.connect_timeout, self.read_timeout)

    def route(self, path: str) -> Route | None:
        """The route of the longest prefix that is `path` itself or ends where a segment of
        it does: one dict look-up per segment (a loop over the 37 prefixes took ~10 µs)."""
        by_prefix = self._by_prefix
        end = len(path)
        while end > 0:
            found = by_prefix.get(path[:end])
            if found is not None:
                return found
            end = path.rfind("/", 0, end)
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
        self.pool.close()
        if self.session:
            await self.session.close()

    @staticmethod
    def _headers(scope: Scope, token: str, streamed_length: str | None,
                 body_read: bool) -> list[tuple[bytes, bytes]]:
        """The request's headers for the service, as the ASGI server gave them: what came
        from outside less hop-by-hop and identity headers, then ours. With the body read
        already, `Expect` is dropped too (the server answered it)."""
        headers: list[tuple[bytes, bytes]] = []
        host = forwarded_for = None
        for pair in scope["headers"]:
            kind = _SEEN_HEADERS.get(pair[0])
            if kind is None:
                kind = _header_kind(pair[0])
            if kind == _PASS or (kind == _EXPECT and not body_read):
                headers.append(pair)
            elif kind == _HOST:
                host = pair[1]
            elif kind == _FORWARDED_FOR:
                forwarded_for = pair[1]
        client = scope.get("client")
        if client:
            address = client[0].encode("latin-1")
            forwarded_for = forwarded_for + b", " + address if forwarded_for else address
        if forwarded_for:
            headers.append((b"x-forwarded-for", forwarded_for))
        if host:
            headers.append((b"x-forwarded-host", host))
        state = scope["state"]
        headers += [(b"x-forwarded-proto", scope.get("scheme", "http").encode("latin-1")),
                    (b"x-request-id", state["request_id"].encode("latin-1")),
                    (b"authorization", b"Bearer " + token.encode("latin-1"))]
        access = state.get("access")  # X-Owui-Access from outside was dropped above
        if access is not None:
            headers.append((b"x-owui-access", access.encode("latin-1")))
        if streamed_length is not None:
            headers.append((b"content-length", streamed_length.encode("latin-1")))
        return headers

    async def forward(self, scope: Scope, receive: Receive, send: Send, route: Route,
                      token: str, body: bytes | None, declared_length: str | None) -> None:
        """Forward one request; `body` None means stream it from `receive`."""
        assert route.base_url is not None
        method = scope["method"]
        headers = self._headers(scope, token, declared_length if body is None else None,
                                body is not None)
        exchange = _Exchange(receive, send)
        if body is not None:
            exchange.watch_soon()
        try:
            if body is not None and route.address is not None \
                    and method not in _AIOHTTP_METHODS and not tracing.enabled():
                await self._own_exchange(exchange, scope, route.address, headers, body)
                return
            query = scope.get("query_string", b"")
            target = route.base_url + scope["raw_path"].decode("latin-1")
            url = URL(f"{target}?{query.decode('latin-1')}" if query else target, encoded=True)
            text_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
            for attempt in (1, 2):
                # No body: None, not b"" (aiohttp would make a payload and a task to write
                # nothing, and send the head in a write of its own).
                data = (body or None) if body is not None else stream_body(receive,
                                                                            self.max_body)
                try:
                    await self._exchange(exchange, method, url, text_headers, data)
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

    async def _own_exchange(self, exchange: _Exchange, scope: Scope, address: Address,
                            headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Through the proxy's own client: one write, then the answer relayed as it comes."""
        request = _request_bytes(scope, address.host_header, headers, body)
        connection = await self._send(request, address)
        try:
            await self._relay(exchange, connection)
        finally:
            self.pool.release(connection, address.host, address.port)

    async def _send(self, request: bytes, address: Address) -> Connection:
        """Send the request; the connection once the answer's head has arrived. Sent once
        more on a new connection when a kept-alive one turns out closed (nothing came back)."""
        for attempt in (1, 2):
            connection = await self.pool.acquire(address.host, address.port)
            try:
                connection.send(request)
                await connection.head()
                return connection
            except (UpstreamBroken, ConnectionError):
                connection.close()
                if attempt == 2 or not connection.reused or connection.received:
                    raise
            except BaseException:
                connection.close()
                raise
        raise AssertionError("unreachable")

    async def _relay(self, exchange: _Exchange, connection: Connection) -> None:
        out: list[tuple[bytes, bytes]] = []
        length = None
        for name, value in connection.headers:
            if name == b"content-length":
                length = value
            if name not in _DROP_RESPONSE:
                out.append((name, value))
        small = length is not None and length.isdigit() and int(length) <= BUFFER_LIMIT
        if not small:
            exchange.watch()
        send = exchange.send
        await send({"type": "http.response.start", "status": connection.status, "headers": out})
        exchange.started = True
        if small:
            body = await connection.whole_body()
            await send({"type": "http.response.body", "body": body})
            return
        while True:
            chunk = connection.take()
            if chunk is not None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            elif connection.complete:
                break
            else:
                await connection.arrival()
        await send({"type": "http.response.body", "body": b""})

    async def _exchange(self, exchange: _Exchange, method: str, url: URL,
                        headers: list[tuple[str, str]], data: object) -> None:
        assert self.session is not None
        async with self.session.request(method, url, headers=headers, data=data,
                                        allow_redirects=False) as response:
            length = response.content_length
            small = length is not None and length <= BUFFER_LIMIT
            if not small:
                exchange.watch()  # once the body is up, only a disconnect can arrive
            out = [(name.lower(), value) for name, value in response.raw_headers
                   if name.lower() not in _DROP_RESPONSE]
            send = exchange.send
            await send({"type": "http.response.start", "status": response.status, "headers": out})
            exchange.started = True
            if small:
                await send({"type": "http.response.body", "body": await response.read()})
                return
            async for chunk in response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})


class _Exchange:
    """One forwarded request's state: has the response started, has the client gone.

    A client that goes away is noticed by a task waiting on `receive`. Most answers are
    small and quick: for them the task would cost more than the rest of the gateway's own
    work (a task, its first step, its cancellation: measured with py-spy in bench/gateway.py),
    so it starts only for a stream, or once a request has waited WATCH_AFTER seconds."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self.receive = receive
        self.send = send
        self.started = False
        self.disconnected = False
        task = asyncio.current_task()
        assert task is not None
        self.task = task
        self._watcher: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watch_soon(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(WATCH_AFTER, self.watch)

    def watch(self) -> None:
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch_disconnect())

    def stop_watching(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._watcher is not None:
            self._watcher.cancel()

    async def _watch_disconnect(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        self.task.cancel()


def _request_bytes(scope: Scope, host: bytes, headers: list[tuple[bytes, bytes]],
                   body: bytes) -> bytes:
    query = scope.get("query_string", b"")
    method = scope["method"].encode("latin-1")
    target = scope["raw_path"] + b"?" + query if query else scope["raw_path"]
    lines = [method + b" " + target + b" HTTP/1.1", b"host: " + host]
    lines += [name + b": " + value for name, value in headers]
    if body or scope["method"] in _BODY_METHODS:
        lines.append(b"content-length: " + str(len(body)).encode())
    lines.append(b"\r\n")
    return b"\r\n".join(lines) + body


def _failure(exc: BaseException, route: Route) -> tuple[int, str]:
    """The status and message a client gets when forwarding failed before the response."""
    cause = exc.__cause__ if isinstance(exc, aiohttp.ClientError) else exc
    if isinstance(cause, BodyRejected):
        return cause.status, cause.detail
    if isinstance(exc, UpstreamUnreachable):
        return 503, f"The {route.service} service is unreachable at {route.base_url}."
    if isinstance(exc, UpstreamBroken):
        return 502, f"The {route.service} service failed: it {exc}."
    if isinstance(exc, ConnectionError):
        return 502, f"The {route.service} service failed: {exc.__class__.__name__}."
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
