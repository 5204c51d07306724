"""core.client: one session, the caller's token and request id, one mapping of failures."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from owui.core.client import (
    ServiceClient,
    ServiceFailed,
    ServiceRefused,
    ServiceTimeout,
    ServiceUnavailable,
    close_session,
)
from owui.core.config import Settings
from owui.core.logging import request_id_var


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"auth": request.headers.get("Authorization"),
                              "request_id": request.headers.get("X-Request-ID"),
                              "body": await request.json() if request.can_read_body else None})


async def _status(request: web.Request) -> web.Response:
    status = int(request.match_info["status"])
    return web.json_response({"detail": f"said {status}"}, status=status,
                             headers={"Retry-After": "7"})


async def _events(_request: web.Request) -> web.Response:
    return web.Response(body=b'data: {"n": 1}\n\n: comment\ndata: {"n": 2}\n\ndata: [DONE]\n\n',
                        content_type="text/event-stream")


async def _lines(_request: web.Request) -> web.Response:
    return web.Response(body=b'{"n": 1}\n\n{"n": 2}\n', content_type="application/x-ndjson")


async def _slow(_request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.json_response({})


@pytest.fixture
async def upstream() -> AsyncIterator[Settings]:
    app = web.Application()
    app.router.add_post("/echo", _echo)
    app.router.add_get("/status/{status}", _status)
    app.router.add_get("/events", _events)
    app.router.add_get("/lines", _lines)
    app.router.add_get("/slow", _slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Settings(agent_service_url=f"http://127.0.0.1:{port}", upstream_read_timeout=0.5)
    await close_session()
    await runner.cleanup()


async def test_call_sends_token_request_id_and_json(upstream: Settings) -> None:
    client = ServiceClient("agent", upstream)
    reset = request_id_var.set("req-1")
    try:
        answer = await client.call("POST", "/echo", token="tok", json={"big": 2**70})
    finally:
        request_id_var.reset(reset)
    assert answer == {"auth": "Bearer tok", "request_id": "req-1", "body": {"big": 2**70}}


async def test_streams(upstream: Settings) -> None:
    client = ServiceClient("agent", upstream)
    assert [e async for e in client.sse("GET", "/events", token="t")] == [{"n": 1}, {"n": 2}]
    assert [e async for e in client.ndjson("GET", "/lines", token="t")] == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize(("status", "kind", "answered"), [
    (404, ServiceRefused, 404), (409, ServiceRefused, 409), (422, ServiceRefused, 422),
    (401, ServiceFailed, 502), (405, ServiceFailed, 502), (500, ServiceFailed, 502),
    (503, ServiceFailed, 503)])
async def test_statuses_mapped_once(upstream: Settings, status: int, kind: type,
                                    answered: int) -> None:
    with pytest.raises(kind) as caught:
        await ServiceClient("agent", upstream).call("GET", f"/status/{status}", token="t")
    assert caught.value.status == answered
    assert caught.value.service == "agent"
    assert f"said {status}" in caught.value.detail
    # Retry-After passed on where it means something to the caller (the service is busy).
    assert caught.value.headers == ({"Retry-After": "7"} if answered == 503 else None)


async def test_timeout_and_unreachable(upstream: Settings) -> None:
    with pytest.raises(ServiceTimeout) as caught:
        await ServiceClient("agent", upstream).call("GET", "/slow", token="t")
    assert caught.value.status == 504
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    gone = Settings(agent_service_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ServiceUnavailable) as unreachable:
        await ServiceClient("agent", gone).call("GET", "/x", token="t")
    assert unreachable.value.status == 503
    assert "agent" in unreachable.value.detail
