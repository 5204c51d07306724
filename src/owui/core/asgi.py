"""Small raw-ASGI helpers shared by the middlewares and the gateway's hot path."""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import Scope, Send


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header; `name` in lower case."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def send_json(send: Send, status: int, body: object,
                    headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": payload})


async def send_error(send: Send, status: int, detail: str,
                     headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    await send_json(send, status, {"detail": detail}, headers)
