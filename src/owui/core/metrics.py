"""Prometheus metrics: what the services count, and how `/metrics` is answered.

Every metric object lives here, made once per process (prometheus-client's way); a service
increments the ones that concern it where the thing happens:

    owui_http_requests_total{service,route,method,status}        every service (RequestMetrics)
    owui_http_request_duration_seconds{service,route,method}      to the last byte sent
    owui_provider_calls_total{connection,model,outcome}            inference
    owui_provider_call_duration_seconds / _time_to_first_token_seconds{connection,model}
    owui_provider_tokens_total{connection,model,direction}        direction: in | out
    owui_provider_errors_total{connection,model,kind}
    owui_chat_turns_total{outcome}, owui_chat_turn_duration_seconds{outcome},
    owui_chat_turn_time_to_first_token_seconds                    chat
    owui_socketio_connections, owui_socketio_connections_opened_total   chat
    owui_ingestion_jobs{state}, owui_ingestion_jobs_finished_total{outcome},
    owui_ingestion_chunks_total (chunks/s: its rate())            retrieval
    owui_db_connections_in_use{service}, owui_db_connections_open{service}   every service
    owui_rate_limit_refusals_total{limit}                         gateway

Routes are labelled by their template (`/api/v1/chats/{id}`), never the raw path, so that the
number of series stays bounded whatever clients send; methods outside the standard set are
`other`. With PROMETHEUS_MULTIPROC_DIR set (several worker processes of one service) the values
live in files there and `/metrics` sums every worker's (prometheus-client's multiprocess mode;
the gauges say how they combine).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.types import Scope

from owui.core import tracing
from owui.core.config import SettingsError
from owui.core.services import SERVICES

disable_created_metrics()  # the `_created` series double the text and nobody reads them

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_VARIABLE) or None


def check_multiprocess_dir() -> str | None:
    """A problem with PROMETHEUS_MULTIPROC_DIR (named), or None when it is fine or unset."""
    path = multiprocess_dir()
    if path is None:
        return None
    if not os.path.isdir(path) or not os.access(path, os.W_OK):
        return (f"{MULTIPROC_VARIABLE}={path} is not a writable directory: create it (empty) "
                "before the workers start, or unset it for a single process")
    return None


# Checked before any metric is made: in multiprocess mode each one opens its file at once.
if (_problem := check_multiprocess_dir()) is not None:
    raise SettingsError(f"Invalid configuration:\n  {_problem}")

# Seconds. Requests include whole streamed answers, hence the long tail.
_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            30.0, 60.0, 120.0)
_SLOW = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)

REQUESTS = Counter("owui_http_requests", "HTTP requests answered, by route template.",
                   ["service", "route", "method", "status"])
REQUEST_SECONDS = Histogram("owui_http_request_duration_seconds",
                            "Time from a request's arrival to its last byte sent.",
                            ["service", "route", "method"], buckets=_LATENCY)

PROVIDER_CALLS = Counter("owui_provider_calls", "Calls to a model provider, by outcome.",
                         ["connection", "model", "outcome"])
PROVIDER_SECONDS = Histogram("owui_provider_call_duration_seconds",
                             "A provider call, from request to its last byte.",
                             ["connection", "model"], buckets=_SLOW)
PROVIDER_FIRST_TOKEN = Histogram("owui_provider_time_to_first_token_seconds",
                                 "From a streamed provider call to its first content.",
                                 ["connection", "model"], buckets=_SLOW)
PROVIDER_TOKENS = Counter("owui_provider_tokens", "Tokens sent to (in) and received from "
                          "(out) providers, as the provider reports them.",
                          ["connection", "model", "direction"])
PROVIDER_ERRORS = Counter("owui_provider_errors", "Failed provider calls, by kind (the HTTP "
                          "status, timeout or unreachable).", ["connection", "model", "kind"])

CHAT_TURNS = Counter("owui_chat_turns", "Chat turns run, by outcome (done, stopped, error).",
                     ["outcome"])
CHAT_TURN_SECONDS = Histogram("owui_chat_turn_duration_seconds",
                              "A chat turn from its start to the stored answer.", ["outcome"],
                              buckets=_SLOW)
CHAT_TURN_FIRST_TOKEN = Histogram("owui_chat_turn_time_to_first_token_seconds",
                                  "A chat turn from its start to the answer's first content.",
                                  buckets=_SLOW)
SOCKETS = Gauge("owui_socketio_connections", "socket.io connections open now.",
                multiprocess_mode="livesum")
SOCKETS_OPENED = Counter("owui_socketio_connections_opened", "socket.io connections accepted.")

INGESTION_JOBS = Gauge("owui_ingestion_jobs", "Ingestion jobs waiting (queued) or running.",
                       ["state"], multiprocess_mode="livesum")
INGESTION_FINISHED = Counter("owui_ingestion_jobs_finished", "Ingestion jobs ended, by outcome "
                             "(done, failed).", ["outcome"])
INGESTION_CHUNKS = Counter("owui_ingestion_chunks", "Chunks embedded and stored; their rate() "
                           "is chunks per second.")

DB_IN_USE = Gauge("owui_db_connections_in_use", "Database connections checked out of the pool.",
                  ["service"], multiprocess_mode="livesum")
DB_OPEN = Gauge("owui_db_connections_open", "Database connections open (in use or idle).",
                ["service"], multiprocess_mode="livesum")

RATE_LIMITED = Counter("owui_rate_limit_refusals", "Requests refused with 429 by a rate limit.",
                       ["limit"])

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route took it: a 401 before routing, a 404
# Where a raw-ASGI fast path, which no FastAPI route matches, names the template it served.
ROUTE_KEY = "owui.route"
WEBAPP = "webapp"  # the gateway's static files and single-page fallback


def _gateway_label() -> Callable[[str], str]:
    """The gateway's label for a path no FastAPI route took: the routed prefix (`/api/v1/chats/*`),
    the web app's files, or unmatched."""
    prefixes = sorted((p for s in SERVICES for p in s.prefixes), key=len, reverse=True)
    # One regex, longest prefix first: a match in C, about a fifth of a loop of startswith.
    routed = re.compile("(?:" + "|".join(map(re.escape, prefixes)) + ")(?=/|$)").match
    api = ("/api", "/ollama", "/openai", "/ws", "/oauth")

    def label(path: str) -> str:
        found = routed(path)
        if found is not None:
            return found[0] + "/*"
        return UNMATCHED if path.startswith(api) else WEBAPP

    return label


class RequestMetrics:
    """Counts one finished request; RequestContextMiddleware calls `observe`, which costs one
    dict look-up and two updates (the labelled children are kept, not looked up each time)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.fallback = _gateway_label() if service == "gateway" else (lambda _path: UNMATCHED)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        template = (scope.get(ROUTE_KEY) or getattr(scope.get("route"), "path", None)
                    or self.fallback(scope["path"]))
        method = scope["method"]
        if method not in _METHODS:
            method = "other"
        key = (template, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                REQUESTS.labels(self.service, template, method, str(status)),
                REQUEST_SECONDS.labels(self.service, template, method))
        children[0].inc()
        children[1].observe(seconds)


_registry: CollectorRegistry | None = None


def registry() -> CollectorRegistry:
    """What `/metrics` reads: this process's registry, or every worker's files."""
    global _registry
    if multiprocess_dir() is None:
        return REGISTRY
    if _registry is None:
        from prometheus_client import multiprocess

        _registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(_registry)
    return _registry


def exposition() -> bytes:
    """The Prometheus text of every metric of this service (all workers)."""
    return generate_latest(registry())


def process_exited() -> None:
    """At shutdown: a worker's live gauges stop counting (multiprocess mode only)."""
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


def watch_pool(engine: Any, service: str) -> None:
    """Keep the connection gauges of a SQLAlchemy engine's pool (sync engine) up to date."""
    from sqlalchemy import event

    in_use, opened = DB_IN_USE.labels(service), DB_OPEN.labels(service)
    event.listen(engine, "checkout", lambda *_: in_use.inc())
    event.listen(engine, "checkin", lambda *_: in_use.dec())
    event.listen(engine, "connect", lambda *_: opened.inc())
    event.listen(engine, "close", lambda *_: opened.dec())
    event.listen(engine, "close_detached", lambda *_: opened.dec())


class MetricsServer:
    """`/metrics` on a port of its own (OWUI_METRICS_PORT), in a thread, so that a public
    service (the gateway) never answers it on its public port. In multiprocess mode each worker
    binds it (SO_REUSEPORT) and any of them answers for all; otherwise a second process on the
    port (another service given the same OWUI_METRICS_PORT) fails to start, with why."""

    def __init__(self, host: str, port: int) -> None:
        from wsgiref.simple_server import make_server

        from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler

        class Server(ThreadingWSGIServer):
            allow_reuse_port = multiprocess_dir() is not None

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            if environ.get("PATH_INFO") != "/metrics":
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"detail":"Only /metrics is served on this port."}']
            body = exposition()
            start_response("200 OK", [("Content-Type", CONTENT_TYPE),
                                      ("Content-Length", str(len(body)))])
            return [body]

        self.server = make_server(host, port, app, Server, handler_class=_SilentHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="owui-metrics")
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ProviderWatch:
    """One provider call's figures and span (inference): made as the call starts, told what
    happens; `provider_call` records the duration and outcome when the call ends."""

    __slots__ = ("connection", "failure", "first", "model", "partial", "span", "start",
                 "tokens")

    def __init__(self, connection: str, model: str, span: Any) -> None:
        self.connection, self.model, self.span = connection, model, span
        self.start = time.perf_counter()
        self.first: float | None = None
        self.failure: str | None = None
        self.tokens: tuple[int, int] | None = None
        self.partial = b""

    def first_token(self) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.start
            PROVIDER_FIRST_TOKEN.labels(self.connection, self.model).observe(self.first)

    def failed(self, kind: str) -> None:
        self.failure = kind

    def answer(self, body: bytes) -> None:
        """A whole JSON answer: its usage, when it reports one."""
        self._usage(body)

    def chunk(self, chunk: bytes) -> None:
        """A streamed chunk (as the provider sent it: an event may span two): the usage event,
        when the stream carries one. Chunks without it cost one substring test."""
        if self.partial:
            chunk, self.partial = self.partial + chunk, b""
        elif b'"usage"' not in chunk and chunk.endswith(b"\n"):
            return
        lines = chunk.split(b"\n")
        if len(lines[-1]) < 65536:
            self.partial = lines[-1]  # a line cut short: the rest comes with the next chunk
        for line in lines[:-1]:
            if line.startswith(b"data:") and b'"usage"' in line:
                self._usage(line[5:].strip())

    def _usage(self, body: bytes) -> None:
        try:
            usage = orjson.loads(body).get("usage")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            self.tokens = (prompt if isinstance(prompt, int) else 0,
                           completion if isinstance(completion, int) else 0)


@contextlib.contextmanager
def provider_call(connection: str, model: str) -> Iterator[ProviderWatch]:
    """Around one call to one provider connection: a span, latency, tokens and the outcome."""
    with tracing.span("provider.call", **{"gen_ai.request.model": model,
                                          "owui.provider.connection": connection}) as span:
        watch = ProviderWatch(connection, model, span)
        try:
            yield watch
        except BaseException as exc:
            watch.failure = watch.failure or type(exc).__name__
            raise
        finally:
            labels = (connection, model)
            PROVIDER_SECONDS.labels(*labels).observe(time.perf_counter() - watch.start)
            PROVIDER_CALLS.labels(*labels, "error" if watch.failure else "ok").inc()
            if watch.failure:
                PROVIDER_ERRORS.labels(*labels, watch.failure).inc()
            if watch.tokens is not None:
                PROVIDER_TOKENS.labels(*labels, "in").inc(watch.tokens[0])
                PROVIDER_TOKENS.labels(*labels, "out").inc(watch.tokens[1])
                tracing.set_attributes(span, **{"gen_ai.usage.input_tokens": watch.tokens[0],
                                                "gen_ai.usage.output_tokens": watch.tokens[1]})
            if watch.failure:
                tracing.set_attributes(span, **{"error.type": watch.failure})


class TurnWatch:
    """One chat turn's figures (chat): its first content and, at its end, its outcome."""

    __slots__ = ("first", "start")

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first = False

    def first_token(self) -> None:
        if not self.first:
            self.first = True
            CHAT_TURN_FIRST_TOKEN.observe(time.perf_counter() - self.start)

    def done(self, outcome: str) -> None:
        CHAT_TURNS.labels(outcome).inc()
        CHAT_TURN_SECONDS.labels(outcome).observe(time.perf_counter() - self.start)
