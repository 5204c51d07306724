"""OpenTelemetry traces: off unless ENABLE_OTEL=true or OTEL_EXPORTER_OTLP_ENDPOINT is set.

When on, each service exports its spans over OTLP/HTTP (protobuf) and carries the W3C
`traceparent` on every call it makes, so one chat turn is one trace across gateway, chat, agent,
inference and retrieval:

    server spans     FastAPI routes (the gateway: its whole raw-ASGI front door)
    client spans     aiohttp (core.client between services, the gateway's proxy), httpx
                     (providers, web search), SQLAlchemy, Redis
    our own spans    `span("provider.chat", model=...)`: provider calls, embedding, vector
                     search, code execution; attributes say what (model, collection, tokens),
                     never a secret or what a user wrote

The standard OTEL_* variables apply (OTEL_SERVICE_NAME, else `owui-<service>`;
OTEL_RESOURCE_ATTRIBUTES; OTEL_TRACES_SAMPLER and _ARG, checked at start by core.config;
OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT; OTEL_BSP_*). Nothing of OpenTelemetry
is imported while tracing is off: `span()` is then a shared no-op context.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from owui.core.config import Settings

# Server spans are not made for these (probes and scrapes would drown the traces).
EXCLUDED_URLS = "/healthz,/readyz,/metrics"

_tracer: Any = None
_provider: Any = None
_NOTHING = contextlib.nullcontext()


def enabled() -> bool:
    return _tracer is not None


def span(name: str, **attributes: Any) -> AbstractContextManager[Any]:
    """A span around a block (a no-op while tracing is off). None values are left out."""
    if _tracer is None:
        return _NOTHING
    return _tracer.start_as_current_span(
        name, attributes={k: v for k, v in attributes.items() if v is not None})


def set_attributes(current: Any, **attributes: Any) -> None:
    """Add attributes to the span `span()` gave (nothing while tracing is off)."""
    if current is not None:
        current.set_attributes({k: v for k, v in attributes.items() if v is not None})


def current_ids() -> tuple[str, str] | None:
    """The current trace and span ids (hex), for log lines; None when off or outside a span."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def setup(service: str, settings: Settings) -> None:
    """Start exporting this process's spans (once; later calls are ignored)."""
    global _tracer, _provider
    if _tracer is not None or not settings.tracing_enabled:
        return
    import os

    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    import owui

    name = os.environ.get("OTEL_SERVICE_NAME") or f"owui-{service}"
    resource = Resource.create({SERVICE_NAME: name, "service.namespace": "owui",
                                "service.version": owui.__version__})
    # The sampler comes from OTEL_TRACES_SAMPLER/_ARG (checked in core.config at start).
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    _instrument_clients()
    _tracer = trace.get_tracer("owui", owui.__version__)


def shutdown() -> None:
    """Send what is still buffered (at service shutdown)."""
    if _provider is not None:
        _provider.force_flush(5000)


def _without_query(url: str) -> str:
    """A URL fit for a span: no query string (it may hold a key) and no user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _scrub_server_span(span: Any, scope: dict[str, Any]) -> None:
    """A server span keeps the path but never the query string: a WebSocket upgrade may carry
    `?token=` there, and any query may hold what a user typed."""
    if span is None or not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in ("http.url", "url.full"):
        if key in attributes:
            span.set_attribute(key, _without_query(str(attributes[key])))
    if "http.target" in attributes:
        span.set_attribute("http.target", scope.get("path", ""))
    if "url.query" in attributes:
        span.set_attribute("url.query", "")


def _instrument_clients() -> None:
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    AioHttpClientInstrumentor().instrument(url_filter=lambda url: _without_query(str(url)))

    def scrub(span: Any, request: Any) -> None:
        if span is not None and span.is_recording():
            url = _without_query(str(request.url))
            span.set_attribute("url.full", url)
            span.set_attribute("http.url", url)

    async def scrub_async(span: Any, request: Any) -> None:
        scrub(span, request)

    HTTPXClientInstrumentor().instrument(request_hook=scrub, async_request_hook=scrub_async)
    RedisInstrumentor().instrument()
    # Engines made from now on (core.db calls create_async_engine through its module). Its
    # declared range stops before SQLAlchemy 2.1, whose engine events it uses are unchanged
    # (tests/observability/test_tracing.py checks the SQL spans), hence skip_dep_check.
    SQLAlchemyInstrumentor().instrument(enable_commenter=False, skip_dep_check=True)


def instrument_app(app: Any) -> None:
    """Server spans for a FastAPI app, named by route template; no spans per body chunk."""
    if _tracer is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls=EXCLUDED_URLS,
                                       exclude_spans=["receive", "send"],
                                       server_request_hook=_scrub_server_span)


def wrap_asgi(app: Any, label: Callable[[str], str]) -> Any:
    """Server spans around a raw ASGI app (the gateway's front door), named `METHOD label`."""
    if _tracer is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    def details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        route = label(scope.get("path", ""))
        method = scope.get("method")
        return (f"{method} {route}" if method else route), {"http.route": route}

    return OpenTelemetryMiddleware(app, excluded_urls=EXCLUDED_URLS, default_span_details=details,
                                   exclude_spans=["receive", "send"],
                                   server_request_hook=_scrub_server_span)

