"""A stand-in upstream service for the gateway's proxy tests, as raw ASGI.

It echoes what reached it, streams with pauses, sleeps past timeouts, and counts streams that
the gateway cancelled when the client went away.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import Receive, Scope, Send

stats = {"streams_started": 0, "streams_cancelled": 0, "streams_finished": 0}


async def _json(send: Send, body: object, status: int = 200) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def _stream(send: Send, chunks: list[bytes], pause: float) -> None:
    stats["streams_started"] += 1
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream")]})
    try:
        for index, chunk in enumerate(chunks):
            if index:
                await asyncio.sleep(pause)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        stats["streams_finished"] += 1
    except (asyncio.CancelledError, OSError):
        stats["streams_cancelled"] += 1
        raise


async def _watch(receive: Receive, task: asyncio.Task[None]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    task.cancel()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/healthz":
        await _json(send, {"status": "ok"})
    elif path.endswith("/echo"):
        body = await _read_body(receive)
        await _json(send, {
            "method": scope["method"], "path": path, "raw_path": scope["raw_path"].decode(),
            "query": scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "body": body.decode(errors="replace"), "body_length": len(body),
        })
    elif path.endswith("/stream"):
        await _read_body(receive)
        await _stream(send, [b"data: first\n\n", b"data: second\n\n"], 0.5)
    elif path.endswith("/burst"):
        # A 50-event answer sent back to back (bench/gateway.py's streaming throughput).
        await _read_body(receive)
        await _stream(send, [b'data: {"choices":[{"delta":{"content":"token %02d"}}]}\n\n' % i
                             for i in range(50)], 0)
    elif path.endswith("/endless"):
        await _read_body(receive)
        task = asyncio.current_task()
        assert task is not None
        watcher = asyncio.create_task(_watch(receive, task))
        try:
            await _stream(send, [b"data: tick\n\n"] * 600, 0.05)
        except asyncio.CancelledError:
            return
        finally:
            watcher.cancel()
    elif path.endswith("/sleep"):
        await _read_body(receive)
        await asyncio.sleep(30)
        await _json(send, {"slept": True})
    elif path.endswith("/stats"):
        await _json(send, stats)
    else:
        await _json(send, {"detail": "Not Found"}, 404)
