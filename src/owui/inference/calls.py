"""One call to a provider, as an ASGI response: pick a connection, fail over, stream, cancel.

- Balancing: the connections serving the model are tried fewest-in-flight first; connections
  whose last model list failed come last.
- Failover: anything that goes wrong before the client has had a byte (refused connection,
  timeout, 5xx, 429, a stream that breaks before its first event) moves on to the next one.
- A cap on requests in flight per connection; a call waits for a slot up to the connect timeout.
- The client going away cancels the call, which closes the provider's connection.
- A provider that breaks off a stream that had started gives the client an SSE error event,
  then the end of the stream: nothing hangs.
"""

from __future__ import annotations

import asyncio
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from owui.core import metrics
from owui.inference.catalog import Target
from owui.inference.errors import send_problem
from owui.inference.providers.base import (
    SSE_DONE,
    Provider,
    StreamBroken,
    StreamStalled,
    UpstreamRequest,
    dumps,
    error_message,
    sse,
)
from owui.inference.translate import TranslationError
from owui.inference.upstreams import Upstream

log = logging.getLogger("owui.inference.calls")
Build = Callable[[Provider, str], UpstreamRequest]
SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
_JSON_HEADERS = [(b"content-type", b"application/json")]
# A connection dropped before any answer: tried once more (see ProviderCall._attempt).
_STALE = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
# Provider answers passed to the client as they are: the request itself is at fault.
_CLIENT_FAULTS = frozenset({400, 413, 422})


@dataclass(frozen=True, slots=True)
class Failure:
    status: int
    detail: str


def order(targets: list[Target]) -> list[Target]:
    """Live connections first, fewest in flight first; ties are broken at random."""
    return sorted(targets, key=lambda t: (t.upstream.status == "down", t.upstream.in_flight,
                                          random.random()))


def _failure(exc: BaseException, upstream: Upstream) -> Failure:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Failure(503, f"Provider connection {upstream.label} is unreachable.")
    if isinstance(exc, TimeoutError | StreamStalled):
        return Failure(504, f"Provider connection {upstream.label} did not answer in time.")
    return Failure(502, f"Provider connection {upstream.label} failed: {type(exc).__name__}.")


def _refusal(status: int, body: bytes, upstream: Upstream) -> Failure:
    message = error_message(body, f"HTTP {status}")
    if status in (401, 403):
        return Failure(502, f"Provider connection {upstream.label} refused its credentials: "
                            f"{message}")
    if status in (404, 429) or status in _CLIENT_FAULTS:
        return Failure(status, f"Provider connection {upstream.label}: {message}")
    return Failure(502, f"Provider connection {upstream.label} failed with HTTP {status}: "
                        f"{message}")


class ProviderCall(Response, ABC):
    """Base: the failover loop and the client's disconnect; subclasses relay the answer.

    A Response, so that a route can return it; it sends everything itself."""

    def __init__(self, targets: list[Target], build: Build, wait: float, query: str = "") -> None:
        self.targets = targets
        self.build = build
        self.wait = wait
        self.query = query
        self.started = False
        self.disconnected = False
        self.background = None
        self.watch: metrics.ProviderWatch  # the attempt's figures (core.metrics)
        self.problem = send_problem  # the error body's shape; Anthropic's calls have their own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        watcher = asyncio.create_task(self._watch(receive, task))
        try:
            await self._run(send)
        except asyncio.CancelledError:
            if not self.disconnected:
                raise
            task.uncancel()
            log.info("client went away; cancelled the provider call")
        finally:
            watcher.cancel()

    async def _watch(self, receive: Receive, task: asyncio.Task[Any]) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        task.cancel()

    async def _run(self, send: Send) -> None:
        failure = Failure(404, "No connection serves this model.")
        for target in order(self.targets):
            upstream = target.upstream
            if not await upstream.acquire(self.wait):
                failure = Failure(503, f"Provider connection {upstream.label} is busy.")
                continue
            try:
                outcome = await self._attempt(target, send)
            finally:
                upstream.release()
            if outcome is None:
                return
            failure = outcome
            log.warning("provider call failed before its answer started: %s", failure.detail)
        await self.problem(send, failure.status, failure.detail)

    async def _attempt(self, target: Target, send: Send) -> Failure | None:
        """None when the client got an answer; a Failure to try the next connection."""
        upstream = target.upstream
        try:
            request = self.build(upstream.provider, target.model)
        except TranslationError as exc:
            await self.problem(send, 400, str(exc))
            return None
        except RecursionError:  # valid JSON (orjson reads 1,024 levels) Python cannot write
            await self.problem(send, 400, "The request is nested too deeply to pass on.")
            return None
        try:
            try:
                return await self._exchange(target, request, send)
            except _STALE as exc:
                if self.started or isinstance(exc, aiohttp.ClientConnectorError):
                    raise
                # A kept-alive connection the provider had closed meanwhile (uvicorn closes
                # idle ones after 5 s): once more, on a new connection.
                log.info("connection to %s dropped before answering (%s); once more",
                         upstream.label, type(exc).__name__)
                return await self._exchange(target, request, send)
        except (aiohttp.ClientError, TimeoutError, ValueError, StreamBroken) as exc:
            if self.started:
                raise
            return _failure(exc, upstream)

    async def _exchange(self, target: Target, request: UpstreamRequest,
                        send: Send) -> Failure | None:
        upstream = target.upstream
        with metrics.provider_call(upstream.label, target.model) as self.watch:
            async with upstream.open(request, self.query) as response:
                if response.status >= 400:
                    self.watch.failed(str(response.status))
                    return await self._refused(response, upstream, send)
                return await self.relay(response, target, send)

    async def _refused(self, response: aiohttp.ClientResponse, upstream: Upstream,
                       send: Send) -> Failure | None:
        failure = _refusal(response.status, await response.read(), upstream)
        if response.status in _CLIENT_FAULTS:
            await self.problem(send, failure.status, failure.detail)
            return None
        return failure

    @abstractmethod
    async def relay(self, response: aiohttp.ClientResponse, target: Target,
                    send: Send) -> Failure | None:
        """Send the provider's answer to the client."""


class JsonCall(ProviderCall):
    """A whole answer, read and translated by the provider (chat without stream, embeddings)."""

    def __init__(self, targets: list[Target], build: Build, wait: float,
                 read: Callable[[Provider, aiohttp.ClientResponse, str], Any]) -> None:
        super().__init__(targets, build, wait)
        self.read = read

    async def relay(self, response: aiohttp.ClientResponse, target: Target,
                    send: Send) -> Failure | None:
        body = await self.read(target.upstream.provider, response, target.model)
        self.watch.answer(body)
        self.started = True
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return None


class StreamCall(ProviderCall):
    """A chat answer as OpenAI SSE; the first event is awaited before the client sees a byte,
    so that a provider that fails at once is failed over."""

    def __init__(self, targets: list[Target], build: Build, wait: float,
                 include_usage: bool) -> None:
        super().__init__(targets, build, wait)
        self.include_usage = include_usage

    async def relay(self, response: aiohttp.ClientResponse, target: Target,
                    send: Send) -> Failure | None:
        events = target.upstream.provider.chat_stream(response, target.model,
                                                      self.include_usage)
        first = await anext(events, b"")
        self.watch.first_token()
        self.started = True
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        await _pump(send, first, events, self.watch)
        return None


async def _pump(send: Send, first: bytes, events: AsyncIterator[bytes],
                watch: metrics.ProviderWatch) -> None:
    tail = first[-2:]
    watch.chunk(first)
    try:
        await send({"type": "http.response.body", "body": first, "more_body": True})
        async for chunk in events:
            watch.chunk(chunk)  # the usage event (tokens in and out), when there is one
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            tail = (tail + chunk)[-2:]
    except StreamBroken as exc:
        log.warning("provider broke off a stream: %s", exc)
        # Close any half-sent event, so that the error is an event of its own.
        head = b"" if tail in (b"", b"\n\n") else b"\n\n"
        error = {"error": {"message": f"The provider broke off its answer: {exc}",
                           "type": "upstream_error", "code": 502}}
        await send({"type": "http.response.body", "body": head + sse(error) + SSE_DONE,
                    "more_body": True})
    await send({"type": "http.response.body", "body": b""})


class PassThrough(ProviderCall):
    """A provider's own API (Ollama's): status, type and body as they come, streams included.
    A stream broken after it started ends with an Ollama-style `{"error"}` line."""

    async def _refused(self, response: aiohttp.ClientResponse, upstream: Upstream,
                       send: Send) -> Failure | None:
        if response.status >= 500 or response.status in (401, 403, 429):
            return _refusal(response.status, await response.read(), upstream)
        return await self.relay(response, Target(upstream, ""), send)

    async def relay(self, response: aiohttp.ClientResponse, target: Target,
                    send: Send) -> Failure | None:
        content_type = response.headers.get("Content-Type", "application/json")
        chunks = response.content.iter_any()
        first = await anext(chunks, b"")
        self.started = True
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(b"content-type", content_type.encode("latin-1"))]})
        last = first[-1:]
        try:
            await send({"type": "http.response.body", "body": first, "more_body": True})
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                last = chunk[-1:] or last
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Ends any half-sent line first, so that the error is a JSON line of its own.
            head = b"" if last in (b"", b"\n") else b"\n"
            line = dumps({"error": f"the provider broke off its answer ({type(exc).__name__})"})
            await send({"type": "http.response.body", "body": head + line + b"\n",
                        "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return None
