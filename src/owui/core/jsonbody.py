"""JSON request bodies parsed strictly, checked once at every service's edge.

The standard library's parser takes what nothing downstream can hold: lone surrogates
(`"\\ud800"` cannot be encoded as UTF-8, so the database write or the response fails later),
`NaN` and `Infinity` (not JSON), numbers past a double (`1e400` becomes `inf`), a byte order
mark; and it recurses once per level, so 100,000 brackets raise `RecursionError`, a 500.
orjson refuses all of these with one `JSONDecodeError` (it stops at 1,024 levels), faster.
One more is refused here: `\\u0000` in a string, which JSON allows but PostgreSQL's text
cannot hold (a 500 from every service that stores strings, on the server profile).

`JsonBodyCheck` runs that parse on every JSON body before a route (or a raw-ASGI fast path)
sees it, and answers 400 naming the fault, or 413 past the size limit: every service rejects
malformed JSON the same way, whoever parses the body afterwards.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from owui.core.asgi import header, send_error


class MalformedJson(ValueError):
    """A body that is not JSON a service can hold; the message says where and why."""


class BodyTooLarge(ValueError):
    """A body past the size limit; the message gives the limit."""


# `\u0000` as an escape, not the text `\\u0000` (an escaped backslash, then "u0000").
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def loads(raw: bytes | str) -> Any:
    """The value of a JSON text, refusing what `MalformedJson` describes."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(f"Malformed JSON body: {exc}") from None
    data = raw.encode() if isinstance(raw, str) else raw
    # The substring test costs next to nothing; the exact match runs only when it hits.
    if b"\\u0000" in data and _NUL_ESCAPE.search(data):
        raise MalformedJson("Malformed JSON body: a string holds the NUL character (\\u0000), "
                            "which cannot be stored; remove it.")
    return value


def loads_object(raw: bytes | str) -> dict[str, Any]:
    """`loads`, for a body that must be a JSON object."""
    value = loads(raw)
    if not isinstance(value, dict):
        raise MalformedJson(f"The body must be a JSON object, not {_kind(value)}.")
    return value


def _kind(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when the client went away; BodyTooLarge past `limit`."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"The request body exceeds the limit of {limit} bytes.")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over an already-read body, then defers to the real one."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


class JsonBodyCheck:
    """Raw ASGI: a JSON body is read whole (up to `limit` bytes) and parsed with `loads`
    before the app sees it; anything else passes straight on."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_json(header(scope, b"content-type")):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, self.limit)
            if body is None:  # nobody is left to answer
                return
            if body.strip():
                loads(body)
        except BodyTooLarge as exc:
            await send_error(send, 413, str(exc))
            return
        except MalformedJson as exc:
            await send_error(send, 400, str(exc))
            return
        await self.app(scope, replay(body, receive), send)
