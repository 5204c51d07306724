"""JSON out with orjson: the shapes are built here, so FastAPI need not validate them again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
from fastapi.responses import Response, StreamingResponse


def dumps(content: Any) -> bytes:
    try:
        return orjson.dumps(content)
    except TypeError:  # e.g. an integer past 64 bits that a client stored
        return json.dumps(content, separators=(",", ":")).encode()


class Json(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def ndjson(lines: AsyncIterator[Iterable[Any]]) -> StreamingResponse:
    """A stream of JSON lines, one item each, written batch by batch."""

    async def body() -> AsyncIterator[bytes]:
        async for batch in lines:
            chunk = b"".join(dumps(item) + b"\n" for item in batch)
            if chunk:
                yield chunk

    return StreamingResponse(body(), media_type="application/x-ndjson")


def json_array(batches: AsyncIterator[Iterable[Any]]) -> StreamingResponse:
    """A JSON array written batch by batch, so that a large one never sits in memory whole."""

    async def body() -> AsyncIterator[bytes]:
        first = True
        yield b"["
        async for batch in batches:
            for item in batch:
                yield (b"" if first else b",") + dumps(item)
                first = False
        yield b"]"

    return StreamingResponse(body(), media_type="application/json")
