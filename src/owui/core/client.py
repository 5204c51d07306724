"""The one client for calling another owui service, on behalf of the user being served.

    client = ServiceClient("inference", settings)          # built once, in <service>/clients/
    answer = await client.call("POST", "/api/v1/...", token=token, json=body)   # parsed JSON
    async for event in client.sse("POST", path, token=token, json=body): ...    # `data:` lines
    async for item in client.ndjson("GET", path, token=token): ...              # JSON lines

Every call carries the caller's bearer token, the request id being served (X-Request-ID, so
one id follows a request through every service's logs) and the URL from the settings'
`<SERVICE>_SERVICE_URL`. All clients share one aiohttp session per process (aiohttp rather than
httpx: about a third of the cost per streamed call, measured in bench/gateway.py and
bench/inference.py), made on first use in the running loop with the timeouts set once
(UPSTREAM_CONNECT_TIMEOUT, UPSTREAM_READ_TIMEOUT between two reads) and closed when the
service shuts down (core.service calls `close_session`).

A call that fails raises one of (core.errors.UpstreamError, hence core.errors.DomainError,
which the error handler answers as `{"detail": ...}` with `.status`):

    ServiceError                 .service, .status, .detail
     ├── ServiceRefused          4xx, passed on: the caller's request was at fault (see PASSED)
     ├── ServiceFailed           502, or the service's own 502/503/504 passed on: it failed,
     │                           answered something unusable, or broke off mid-stream
     ├── ServiceUnavailable      503: it cannot be reached
     └── ServiceTimeout          504: it did not answer in time

An error the protocol sends inside a stream (an `error` event) is the caller's to read.
"""

from __future__ import annotations

import asyncio
import json as stdlib_json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from owui.core.access import ACCESS_HEADER, forwarded_header
from owui.core.config import Settings
from owui.core.errors import UpstreamError
from owui.core.logging import request_id_var
from owui.core.sse import data_lines
from owui.core.tls import client_context


class ServiceError(UpstreamError):
    """An owui service failed a call (or refused it): `.service` names it."""


class ServiceRefused(ServiceError):
    """The service answered a 4xx that is passed on as it is, with its detail."""


class ServiceFailed(ServiceError):
    """The service failed, answered something unusable, or the connection broke mid-answer."""


class ServiceUnavailable(ServiceError):
    """The service cannot be reached (connection refused, no such host)."""


class ServiceTimeout(ServiceError):
    """The service did not connect, or did not send the next bytes, within the timeouts."""


# One rule for every call between services. A 4xx is the caller's request at fault (invalid,
# too large, forbidden, not found, conflicting with stored state, rate limited), so the caller
# hears it as if it had called the service itself; 409 is one of them (the agent's old set left
# it out only because inference never answers 409). 401 is not passed on: the service rejecting
# the token this service accepted is a configuration fault (JWT secrets differ), not the user's
# session ending. Other 4xx (405, 415, ...) mean this client called wrongly: 502. A 502/503/504
# names the service's own upstream failing and is passed on; any other 5xx is a 502.
PASSED = frozenset({400, 403, 404, 409, 413, 422, 429, 502, 503, 504})
# The longest line read from a stream (an event, a JSON line): far beyond a tool result or an
# answer; aiohttp refuses a line past twice its read buffer.
MAX_LINE = 8 * 1024 * 1024
_NO_BODY: Any = object()

_session: aiohttp.ClientSession | None = None
_session_loop: asyncio.AbstractEventLoop | None = None


def session(settings: Settings) -> aiohttp.ClientSession:
    """The process's session for calls between services, made on first use in this loop."""
    global _session, _session_loop
    loop = asyncio.get_running_loop()
    if _session is None or _session.closed or _session_loop is not loop:
        # A new loop (tests run apps one loop after another) cannot use the old one's session.
        timeout = aiohttp.ClientTimeout(total=None, connect=settings.upstream_connect_timeout,
                                        sock_read=settings.upstream_read_timeout)
        # https:// service URLs: verified against OWUI_TLS_CA, with our client certificate
        # for mutual TLS (core/tls.py); the library's defaults when neither is set.
        ssl_context = client_context(settings)
        _session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=60,
                                           ssl=ssl_context if ssl_context else True),
            timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), read_bufsize=MAX_LINE // 2)
        _session_loop = loop
    return _session


async def close_session() -> None:
    """Close the process's session (at service shutdown); the next call makes a new one."""
    global _session, _session_loop
    current, _session, _session_loop = _session, None, None
    if current is not None and not current.closed:
        await current.close()


def encode(body: Any) -> bytes:
    """JSON bytes: orjson, or the standard library for what orjson refuses (integers past 64
    bits, lone surrogates), which a user may have stored and is valid JSON all the same."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return stdlib_json.dumps(body, separators=(",", ":")).encode()


def detail_of(body: bytes) -> str:
    """The message of an error body: owui's `detail`, OpenAI's `error.message`, or the text."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:300].decode(errors="replace").strip() or "no detail"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error)
        found = data.get("detail") or error or data
        return found if isinstance(found, str) else orjson.dumps(found).decode()
    return str(data)


class ServiceClient:
    """Calls to one owui service; cheap to build (the session is the process's)."""

    def __init__(self, service: str, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self.base_url = settings.service_url(service)

    async def call(self, method: str, path: str, *, token: str, json: Any = _NO_BODY,
                   params: Mapping[str, str] | None = None,
                   headers: Mapping[str, str] | None = None) -> Any:
        """One request; its JSON answer parsed (None for an empty body)."""
        async with self._request(method, path, token, json, params, headers) as response:
            try:
                content = await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._broken(exc) from None
        if not content:
            return None
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise ServiceFailed(self.service, 502,
                                f"The {self.service} service answered malformed JSON.") from None

    async def sse(self, method: str, path: str, *, token: str, json: Any = _NO_BODY,
                  params: Mapping[str, str] | None = None,
                  headers: Mapping[str, str] | None = None) -> AsyncIterator[Any]:
        """The parsed payload of each server-sent `data:` line, up to `data: [DONE]`."""
        async with self._request(method, path, token, json, params, headers) as response:
            try:
                async for data in data_lines(response.content):
                    yield orjson.loads(data)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise self._broken(exc) from None

    async def ndjson(self, method: str, path: str, *, token: str, json: Any = _NO_BODY,
                     params: Mapping[str, str] | None = None,
                     headers: Mapping[str, str] | None = None) -> AsyncIterator[Any]:
        """Each line of a JSON-lines answer, parsed (blank lines skipped)."""
        async with self._request(method, path, token, json, params, headers) as response:
            try:
                async for line in response.content:
                    if line.strip():
                        yield orjson.loads(line)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise self._broken(exc) from None

    @asynccontextmanager
    async def _request(self, method: str, path: str, token: str, body: Any,
                       params: Mapping[str, str] | None,
                       extra: Mapping[str, str] | None) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response once its status is 2xx; any other status raises its ServiceError."""
        headers = {"Authorization": f"Bearer {token}"}
        request_id = request_id_var.get()
        if request_id:
            headers["X-Request-ID"] = request_id
        access = forwarded_header()  # the user's groups and permissions, signed by the gateway
        if access:
            headers[ACCESS_HEADER] = access
        data = None
        if body is not _NO_BODY:
            data = encode(body)
            headers["Content-Type"] = "application/json"
        if extra:
            headers.update(extra)
        http = session(self.settings)
        try:
            async with http.request(method, self.base_url + path, data=data, params=params,
                                    headers=headers) as response:
                if response.status >= 300:
                    error = self._refused(response.status, await response.read())
                    retry_after = response.headers.get("Retry-After")
                    if retry_after is not None and error.status in (429, 503):
                        error.headers = {"Retry-After": retry_after}  # the caller waits too
                    raise error
                yield response
        except TimeoutError:  # before ClientError: aiohttp's timeouts are both
            raise ServiceTimeout(self.service, 504,
                                 f"The {self.service} service timed out.") from None
        except aiohttp.ClientSSLError as exc:  # a ClientConnectorError, but no outage
            detail = (f"The TLS handshake with the {self.service} service at {self.base_url} "
                      f"failed: {exc.os_error}. Check OWUI_TLS_CA and its certificate.")
            raise ServiceFailed(self.service, 502, detail) from None
        except aiohttp.ClientConnectorError:
            detail = f"The {self.service} service is unreachable at {self.base_url}."
            raise ServiceUnavailable(self.service, 503, detail) from None
        except aiohttp.ClientError as exc:
            raise self._broken(exc) from None

    def _refused(self, status: int, body: bytes) -> ServiceError:
        detail = detail_of(body)
        if status in PASSED:
            kind = ServiceRefused if status < 500 else ServiceFailed
            return kind(self.service, status, detail)
        return ServiceFailed(self.service, 502,
                             f"The {self.service} service failed ({status}): {detail}")

    def _broken(self, exc: Exception) -> ServiceError:
        if isinstance(exc, TimeoutError):
            return ServiceTimeout(self.service, 504, f"The {self.service} service timed out.")
        return ServiceFailed(self.service, 502, f"The connection to the {self.service} service "
                                                f"broke off mid-answer ({type(exc).__name__}).")
