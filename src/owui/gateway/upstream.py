"""The proxy's own HTTP/1.1 client, for the hot path: a request whose body the gateway has read
whole (or that has none) to a service over plain http.

aiohttp's client cost about 200 µs of CPU a request here (its request and response objects,
multidicts, a payload, a writer task, timers: bench/gateway.py with py-spy), four times the
rest of the gateway's own work; this one writes the request head and body in one call and
parses the answer with httptools (uvicorn's parser), about 40 µs. Everything else (streamed
request bodies, HEAD, https to a service, WebSockets, any request while tracing is on) still
goes through aiohttp.

Connections are kept alive per service and reused newest first; one that the service closed
while idle is noticed (connection_lost) and dropped. A request that fails on a reused
connection before any answer arrived is sent once more on a new one, as aiohttp's path does.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools

# Reading from a service pauses while this much of its answer waits for a slow client.
_HIGH_WATER = 256 * 1024
# Idle connections kept per service; more are closed when they come back.
MAX_IDLE = 256


class UpstreamBroken(Exception):
    """The service closed the connection or answered with what is not HTTP."""


class UpstreamUnreachable(OSError):
    """No connection to the service could be made (refused, no route, ...)."""


class Connection(asyncio.Protocol):
    """One kept-alive connection, and the answer being read on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float) -> None:
        self.loop = loop
        self.read_timeout = read_timeout  # seconds without a byte from the service
        self.transport: asyncio.WriteTransport | None = None  # uvloop's is no asyncio.Transport
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.reused = False
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self.reset()

    def reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.head_done = False
        self.complete = False
        self.keep_alive = False
        self.received = False
        self.error: BaseException | None = None

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamBroken(f"not HTTP ({exc})"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.complete:
            return
        if exc is None and self.head_done and self._until_close():
            self.complete = True  # a body with neither length nor chunks ends with the close
            self._wake()
            return
        self._fail(UpstreamBroken("closed the connection") if exc is None else exc)

    def _until_close(self) -> bool:
        return not any(name in (b"content-length", b"transfer-encoding")
                       for name, _ in self.headers)

    # ------------------------------------------------------------ httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        self.head_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self._wake()

    # ------------------------------------------------------------ for the proxy

    @property
    def usable(self) -> bool:
        """Open for a request: uvloop closes the transport (the service went away) a loop
        turn before it calls connection_lost, and a write then raises RuntimeError."""
        return not self.closed and self.transport is not None \
            and not self.transport.is_closing()

    def send(self, data: bytes) -> None:
        if not self.usable:
            raise UpstreamBroken("closed the connection")
        assert self.transport is not None
        self.transport.write(data)

    async def head(self) -> None:
        """Wait until the status and headers have arrived."""
        while not self.head_done:
            await self._wait()

    def take(self) -> bytes | None:
        """All of the body that has arrived and not been taken, if any: pieces that came
        together go to the client in one write (a stream's events are not held back)."""
        chunks = self.chunks
        if not chunks:
            return None
        chunk = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        self._resume()
        return chunk

    def _resume(self) -> None:
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    async def arrival(self) -> None:
        """Wait until more of the body has arrived, or all of it."""
        if not (self.chunks or self.complete):
            await self._wait()

    async def whole_body(self) -> bytes:
        """The whole body (its length known and bounded by the caller): reading goes on past
        _HIGH_WATER, which only holds back a stream for a slow client (paused here, nothing
        would ever take the chunks and resume it)."""
        while not self.complete:
            self._resume()
            await self._wait()
        self._resume()  # the last piece may have paused it: the connection is reused
        body = b"".join(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        return body

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def _wait(self) -> None:
        if self.error is not None:
            raise self.error
        waiter = self._waiter = self.loop.create_future()
        timer = self.loop.call_later(self.read_timeout, _time_out, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        if self.error is not None and not (self.chunks or self.complete):
            raise self.error

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        self._wake()


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Pool:
    """Kept-alive connections per (host, port)."""

    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._idle: dict[tuple[str, int], list[Connection]] = {}

    async def acquire(self, host: str, port: int) -> Connection:
        idle = self._idle.get((host, port))
        while idle:
            connection = idle.pop()
            if connection.usable:
                connection.reused = True
                return connection
        return await self.connect(host, port)

    async def connect(self, host: str, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(lambda: Connection(loop, self.read_timeout), host, port),
                self.connect_timeout)
        except OSError as exc:
            raise UpstreamUnreachable(str(exc)) from exc
        return connection

    def release(self, connection: Connection, host: str, port: int) -> None:
        """Back to the pool when the answer was read whole and the service keeps it open."""
        if connection.closed or not connection.complete or not connection.keep_alive \
                or connection.chunks:
            connection.close()
            return
        connection.reset()
        idle = self._idle.setdefault((host, port), [])
        if len(idle) >= MAX_IDLE:
            connection.close()
            return
        idle.append(connection)

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
