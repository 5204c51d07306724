"""The chat service's calls to the agent service: a run as a stream of its events (SSE), with
the user's token. aiohttp, as the agent's own calls to the inference service (agent/inference.py):
about a third of httpx's cost per streamed call, on the path of every token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from owui.chat.responses import dumps
from owui.core.config import Settings
from owui.core.errors import UpstreamError
from owui.core.sse import data_lines

RUN_PATH = "/api/v1/agents/run"
# Statuses of the agent passed on as they are (the request was at fault, or an upstream of the
# agent's failed in a way the agent named); any other refusal is a 502.
_PASSED = frozenset({400, 403, 404, 409, 413, 422, 429, 502, 503, 504})
# The longest event line read (a tool result or an answer is far smaller).
MAX_LINE = 8 * 1024 * 1024


class AgentError(UpstreamError):
    """The agent service refused the run, failed it, or went away in the middle."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__("agent", status, detail)


def create_session(settings: Settings) -> aiohttp.ClientSession:
    timeout = aiohttp.ClientTimeout(total=None, connect=settings.upstream_connect_timeout,
                                    sock_read=settings.upstream_read_timeout)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=60),
        timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), read_bufsize=MAX_LINE // 2)


def _detail(body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:300].decode(errors="replace") or "no detail"
    return str(data.get("detail") if isinstance(data, dict) else data)


async def run_events(http: aiohttp.ClientSession, settings: Settings, token: str,
                     body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """The run's events as the agent sends them, ending with its `done` or `error` event;
    a refusal or a lost connection raises AgentError."""
    url = settings.service_url("agent") + RUN_PATH
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        async with http.post(url, data=dumps({**body, "stream": True}),  # big ints too
                             headers=headers) as response:
            if response.status != 200:
                detail = _detail(await response.read())
                raise AgentError(response.status if response.status in _PASSED else 502,
                                 f"The agent service refused the run: {detail}")
            async for data in data_lines(response.content):
                yield orjson.loads(data)
    except aiohttp.ClientConnectorError:
        raise AgentError(503, "The agent service is unreachable at "
                              f"{settings.service_url('agent')}.") from None
    except (aiohttp.ClientError, ValueError) as exc:
        raise AgentError(502, "The connection to the agent service broke off mid-answer "
                              f"({type(exc).__name__}).") from None
    except TimeoutError:
        raise AgentError(504, "The agent service timed out.") from None
