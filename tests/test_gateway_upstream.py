"""The proxy's own HTTP/1.1 client (gateway/upstream.py) against a real socket server that
misbehaves on purpose: kept-alive connections reused, one closed by the service as it is
reused (sent again on a new one), a chunked stream relayed as it comes, a body that ends with
the close, an answer that is not HTTP (502), a service that says nothing (504), a service that
is not there (503)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from owui.core.config import Settings
from owui.gateway.proxy import Proxy, Route, address_of
from owui.gateway.upstream import Pool, UpstreamBroken

OK = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


@dataclass
class Service:
    port: int
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":", 1)[1]))
    return head


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[Service]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> Service:
        service = Service(0)

        async def on_connection(reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
            service.connections += 1
            try:
                await handler(reader, writer, service.connections)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
        servers.append(server)
        service.port = server.sockets[0].getsockname()[1]
        return service

    yield start
    for server in servers:
        server.close()


async def forward(port: int, path: str = "/api/v1/agents/x", method: str = "GET",
                  body: bytes = b"", read_timeout: float = 5.0,
                  streaming: asyncio.Event | None = None) -> list[dict]:
    """Two requests through Proxy.forward; the ASGI messages the client was sent.
    `streaming` is set when a piece of a streamed body reaches the client."""
    base = f"http://127.0.0.1:{port}"
    proxy = Proxy(Settings(agent_service_url=base, upstream_read_timeout=read_timeout))
    await proxy.start()
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)
        if streaming is not None and message.get("more_body"):
            streaming.set()

    async def receive() -> dict:
        await asyncio.Event().wait()  # the client never leaves
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"q=1", "headers": [(b"host", b"gw"), (b"x-owui-access", b"forged")],
             "client": ("10.0.0.9", 1), "scheme": "http", "state": {"request_id": "rid-1"}}
    route = Route("/api/v1/agents", "agent", base, address_of(base))
    try:
        for _ in range(2):
            if streaming is not None:
                streaming.clear()
            await proxy.forward(scope, receive, send, route, "tok", body, None)
    finally:
        await proxy.close()
    return sent


def answers(sent: list[dict]) -> list[tuple[int, bytes]]:
    """(status, whole body) of each response in `sent`."""
    found: list[tuple[int, bytes]] = []
    for message in sent:
        if message["type"] == "http.response.start":
            found.append((message["status"], b""))
        else:
            status, body = found[-1]
            found[-1] = (status, body + message.get("body", b""))
    return found


async def test_kept_alive_connection_is_reused_and_headers_are_ours(serve) -> None:
    async def handler(reader, writer, _index) -> None:
        while True:
            service.requests.append(await read_request(reader))
            writer.write(OK)

    service = await serve(handler)
    sent = await forward(service.port, method="POST", body=b'{"a": 1}')
    assert answers(sent) == [(200, b"ok"), (200, b"ok")]
    assert service.connections == 1
    head = service.requests[0].decode()
    assert head.startswith("POST /api/v1/agents/x?q=1 HTTP/1.1\r\n")
    assert f"host: 127.0.0.1:{service.port}\r\n" in head
    assert "authorization: Bearer tok\r\n" in head and "x-request-id: rid-1\r\n" in head
    assert "x-forwarded-for: 10.0.0.9\r\n" in head and "content-length: 8\r\n" in head
    assert "forged" not in head  # an identity header from outside never reaches a service


async def test_connection_closed_as_it_is_reused_is_sent_again(serve) -> None:
    async def handler(reader, writer, index) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        if index == 1:  # the first connection: read the second request, then hang up
            await read_request(reader)
            return
        while True:
            await read_request(reader)
            writer.write(OK)

    service = await serve(handler)
    sent = await forward(service.port)
    assert answers(sent) == [(200, b"ok"), (200, b"ok")]
    assert service.connections == 2


async def test_chunked_stream_is_relayed_as_it_comes(serve) -> None:
    events = (b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n")
    streaming = asyncio.Event()

    async def handler(reader, writer, _index) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                         b"transfer-encoding: chunked\r\n\r\n")
            for index, event in enumerate(events):
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                await writer.drain()
                if index == 0:  # the rest only once the first event reached the client
                    await asyncio.wait_for(streaming.wait(), 5)
            writer.write(b"0\r\n\r\n")

    service = await serve(handler)
    sent = await forward(service.port, streaming=streaming)
    start = sent[0]
    assert start["status"] == 200
    assert (b"transfer-encoding", b"chunked") not in start["headers"]  # the server re-frames
    assert sent[1] == {"type": "http.response.body", "body": events[0], "more_body": True}
    assert answers(sent) == [(200, b"".join(events))] * 2
    assert sent[-1] == {"type": "http.response.body", "body": b""}
    assert service.connections == 1


async def test_a_body_that_ends_with_the_close_is_whole(serve) -> None:
    async def handler(reader, writer, _index) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello, ")
        await writer.drain()
        writer.write(b"world")

    service = await serve(handler)
    sent = await forward(service.port)
    assert answers(sent) == [(200, b"hello, world")] * 2
    ends = [m for m in sent if m["type"] == "http.response.body" and not m.get("more_body")]
    assert len(ends) == 2  # each answer ended, not broken off
    assert service.connections == 2


async def test_an_answer_that_is_not_http_is_a_502(serve) -> None:
    async def handler(reader, writer, _index) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")

    service = await serve(handler)
    status, body = answers(await forward(service.port))[0]
    assert status == 502 and b"agent service failed" in body


async def test_a_silent_service_is_a_504(serve) -> None:
    async def handler(reader, _writer, _index) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    service = await serve(handler)
    status, body = answers(await forward(service.port, read_timeout=0.2))[0]
    assert status == 504 and b"did not answer in time" in body


async def test_a_service_that_is_not_there_is_a_503() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    status, body = answers(await forward(port))[0]
    assert status == 503 and b"unreachable" in body


async def test_an_answer_past_the_high_water_mark_is_read_whole(serve) -> None:
    """A 600 KB answer of known length (under the proxy's 1 MB buffer limit, past the 256 KB
    at which a stream's reading pauses for a slow client) is read to its end and sent in one
    piece: the reading paused once and nothing resumed it (the gateway answered nothing
    until the client gave up: tests/malformed met it on 422s echoing a 100 KB string)."""
    big = b"x" * 600_000

    async def handler(reader, writer, _index) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 422 Unprocessable Entity\r\ncontent-type: text/plain\r\n"
                         b"content-length: %d\r\n\r\n" % len(big))
            for start in range(0, len(big), 50_000):  # in pieces, as a service writes
                writer.write(big[start:start + 50_000])
                await writer.drain()

    service = await serve(handler)
    sent = await asyncio.wait_for(forward(service.port, method="POST", body=b"{}"), 20)
    assert answers(sent) == [(422, big), (422, big)]


async def test_a_connection_closing_under_us_is_not_written_to(serve) -> None:
    """A service killed while its connection sat in the pool: the transport is closed a loop
    turn before connection_lost runs, and uvloop's write then raises RuntimeError (a 500 to
    every waiting client in tests/faults/test_chat_kill). The connection says it is not usable,
    and a send is the UpstreamBroken the proxy sends again on a new connection."""
    async def handler(reader, writer, _index) -> None:
        while True:
            await read_request(reader)
            writer.write(OK)

    service = await serve(handler)
    pool = Pool(connect_timeout=5, read_timeout=5)
    connection = await pool.acquire("127.0.0.1", service.port)
    assert connection.usable
    assert connection.transport is not None
    connection.transport.close()  # what the loop does first when the service goes away
    assert not connection.closed and not connection.usable
    with pytest.raises(UpstreamBroken):
        connection.send(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
    pool.close()
