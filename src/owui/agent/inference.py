"""Calls to the inference service's OpenAI-compatible chat completions, with the user's token.

aiohttp rather than the shared httpx client: it costs about a third as much per streamed call
(the inference service made the same choice, bench/inference.py), and a run makes several.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from owui.core.config import Settings
from owui.core.errors import UpstreamError
from owui.core.sse import data_lines

PATH = "/api/v1/inference/chat/completions"
# Statuses of the inference service passed on as they are; any other failure is a 502.
_PASSED = frozenset({400, 403, 404, 413, 422, 429, 502, 503, 504})


def _encode(body: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:  # integers beyond 64 bits: valid JSON, that the stdlib writes
        return json.dumps(body).encode()


class InferenceError(UpstreamError):
    """The inference service (or its provider) refused or failed the call."""


def _detail(body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:300].decode(errors="replace")
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error)
        return str(data.get("detail") or error or data)
    return str(data)


def _refused(status: int, body: bytes) -> InferenceError:
    code = status if status in _PASSED else 502
    return InferenceError("inference", code, f"The model call failed: {_detail(body)}")


def _transport(settings: Settings, exc: Exception) -> InferenceError:
    if isinstance(exc, TimeoutError):
        return InferenceError("inference", 504, "The inference service timed out.")
    return InferenceError("inference", 503, "The inference service is unreachable at "
                                            f"{settings.service_url('inference')}.")


def create_session(settings: Settings) -> aiohttp.ClientSession:
    timeout = aiohttp.ClientTimeout(total=None, connect=settings.upstream_connect_timeout,
                                    sock_read=settings.upstream_read_timeout)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=60),
        timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), read_bufsize=1 << 20)


async def complete(http: aiohttp.ClientSession, settings: Settings, token: str,
                   body: dict[str, Any]) -> dict[str, Any]:
    """One non-streamed chat completion."""
    url = settings.service_url("inference") + PATH
    try:
        async with http.post(url, data=_encode({**body, "stream": False}),
                             headers=_headers(token)) as response:
            content = await response.read()
            if response.status != 200:
                raise _refused(response.status, content)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _transport(settings, exc) from None
    return orjson.loads(content)


async def stream(http: aiohttp.ClientSession, settings: Settings, token: str,
                 body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """The chunks of one streamed chat completion, parsed; errors mid-stream raise."""
    url = settings.service_url("inference") + PATH
    try:
        async with http.post(url, data=_encode({**body, "stream": True}),
                             headers=_headers(token)) as response:
            if response.status != 200:
                raise _refused(response.status, await response.read())
            async for data in data_lines(response.content):
                chunk = orjson.loads(data)
                if isinstance(chunk, dict) and chunk.get("error"):
                    raise InferenceError("inference", 502, "The model failed mid-answer: "
                                                           f"{_detail(data)}")
                yield chunk
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _transport(settings, exc) from None


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


class ToolCallAccumulator:
    """Tool calls streamed in pieces (OpenAI deltas by index) put back together."""

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, Any]] = {}

    def add(self, deltas: list[dict[str, Any]]) -> None:
        for delta in deltas:
            index = int(delta.get("index", len(self.calls)))
            call = self.calls.setdefault(index, {"id": "", "type": "function",
                                                 "function": {"name": "", "arguments": ""}})
            if delta.get("id"):
                call["id"] = delta["id"]
            function = delta.get("function") or {}
            if function.get("name"):
                call["function"]["name"] += function["name"]
            if function.get("arguments"):
                call["function"]["arguments"] += function["arguments"]

    def result(self) -> list[dict[str, Any]]:
        calls = [self.calls[i] for i in sorted(self.calls)]
        for number, call in enumerate(calls):
            call["id"] = call["id"] or f"call_{number}"
        return calls
