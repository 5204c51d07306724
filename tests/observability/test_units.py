"""The small pieces, in process: route labels, the short log form, streamed usage, settings."""

from __future__ import annotations

import pytest

from owui.core.config import Settings
from owui.core.logging import render, wants_text
from owui.core.metrics import ProviderWatch, RequestMetrics


@pytest.mark.parametrize(("path", "label"), [
    ("/api/v1/chats/abc/messages", "/api/v1/chats/*"),
    ("/api/v1/chats", "/api/v1/chats/*"),
    ("/api/v1/chatsx", "unmatched"),
    ("/api/v1/users/user/settings/x", "/api/v1/users/user/settings/*"),
    ("/api/v1/users/abc", "/api/v1/users/*"),
    ("/ollama/api/tags", "/ollama/*"),
    ("/static/app.js", "webapp"),
    ("/", "webapp"),
    ("/api/no/such", "unmatched"),
])
def test_the_gateway_labels_a_path_by_its_routed_prefix(path: str, label: str) -> None:
    assert RequestMetrics("gateway").fallback(path) == label


def test_a_backend_labels_what_no_route_took_as_unmatched() -> None:
    assert RequestMetrics("chat").fallback("/api/v1/chats/abc/x/y") == "unmatched"


def test_the_short_form() -> None:
    entry = {"ts": "2026-12-05T01:02:03.456Z", "level": "warning", "service": "chat",
             "logger": "owui.x", "msg": "slow answer", "request_id": "0123456789abcdef0123",
             "trace_id": "a" * 32, "span_id": "b" * 16, "model": "gpt-fake"}
    assert render(entry) == ("WARNING slow answer model=gpt-fake req=0123456789ab "
                             f"trace={'a' * 32}")
    coloured = render(entry, colour=True)
    assert coloured.startswith("\x1b[33mWARNING\x1b[0m slow answer") and "\x1b[2mreq=" in coloured
    access = {"level": "info", "msg": "GET /x 200", "method": "GET", "path": "/x",
              "status": 200, "ms": 1.5}
    assert render(access) == "INFO    GET /x 200 1.5 ms"
    failed = render({"level": "error", "msg": "boom", "exc": "Traceback\n  line"})
    assert failed == "ERROR   boom\nTraceback\n  line"


def test_auto_means_text_on_a_terminal_only() -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    assert wants_text("auto", Terminal()) and not wants_text("auto", object())
    assert wants_text("text", object()) and not wants_text("json", Terminal())


def test_streamed_usage_is_found_across_chunks() -> None:
    watch = ProviderWatch("c", "m", None)
    watch.chunk(b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[],"us')
    watch.chunk(b'age":{"prompt_tokens":3,"completion_tokens":4}}\n\ndata: [DONE]\n\n')
    assert watch.tokens == (3, 4)
    whole = ProviderWatch("c", "m", None)
    whole.answer(b'{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2}}')
    assert whole.tokens == (7, 2)


def test_log_levels_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWUI_LOG_LEVEL", "warning")
    monkeypatch.setenv("OWUI_LOG_LEVEL_CHAT", "debug")
    settings = Settings()
    assert settings.log_level_for("chat") == "DEBUG"
    assert settings.log_level_for("gateway") == "WARNING"


def test_tracing_is_on_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENABLE_OTEL", "OTEL_EXPORTER_OTLP_ENDPOINT",
                 "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert not Settings().tracing_enabled
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert Settings().tracing_enabled
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    monkeypatch.setenv("ENABLE_OTEL", "true")
    assert Settings().tracing_enabled
