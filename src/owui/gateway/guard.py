"""Checks on a request body before anything is forwarded: size, content type, JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.types import Receive, Scope

from owui.core.asgi import header
from owui.core.jsonbody import MalformedJson, is_json, loads

ACCEPTED_TYPES = frozenset({
    "application/json", "application/x-ndjson", "multipart/form-data",
    "application/x-www-form-urlencoded", "application/octet-stream",
    # Workflow definitions may be posted as YAML.
    "application/yaml", "application/x-yaml", "text/yaml",
})
# Bodies up to this size are read whole (cheaper to forward); larger ones stream through.
BUFFER_LIMIT = 1024 * 1024


class BodyRejected(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _declared_length(scope: Scope) -> int | None:
    raw = header(scope, b"content-length")
    if raw is None:
        return None
    try:
        length = int(raw)
    except ValueError:
        raise BodyRejected(400, f"Content-Length {raw!r} is not a number.") from None
    if length < 0:
        raise BodyRejected(400, "Content-Length must not be negative.")
    return length


async def stream_body(receive: Receive, limit: int) -> AsyncIterator[bytes]:
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyRejected(400, "The client went away while sending the body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyRejected(413, f"The request body exceeds the limit of {limit} bytes.")
        if chunk:
            yield chunk
        more = message.get("more_body", False)


async def read_all(receive: Receive, limit: int) -> bytes:
    return b"".join([chunk async for chunk in stream_body(receive, limit)])


async def checked_body(scope: Scope, receive: Receive, max_body: int,
                       max_json: int) -> bytes | None:
    """The whole body when small or JSON (validated), b"" when none, None to stream it."""
    length = _declared_length(scope)
    chunked = (header(scope, b"transfer-encoding") or "").lower() == "chunked"
    if not chunked and not length:
        return b""
    if length is not None and length > max_body:
        raise BodyRejected(413, f"The request body ({length} bytes) exceeds the limit of "
                                f"{max_body} bytes.")
    media_type = (header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    if media_type and media_type not in ACCEPTED_TYPES and not is_json(media_type):
        raise BodyRejected(415, f"Content-Type {media_type!r} is not accepted; send "
                                "application/json, multipart/form-data, "
                                "application/x-www-form-urlencoded or YAML.")
    if is_json(media_type):
        body = await read_all(receive, max_json)
        if body.strip():
            try:  # the services' own check (core.jsonbody), here before anything is forwarded
                loads(body)
            except MalformedJson as exc:
                raise BodyRejected(400, str(exc)) from None
        return body
    if length is not None and length <= BUFFER_LIMIT:
        return await read_all(receive, max_body)
    return None

