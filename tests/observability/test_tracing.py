"""One chat turn is one trace across the five services: the stand-in OTLP collector
(tests/fakes/otlp.py) receives spans from gateway, chat, agent, inference and retrieval, all
with one trace id, each parented to a span that the collector also received."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.observability.conftest import Observed

SERVICES = {f"owui-{name}" for name in ("gateway", "chat", "agent", "inference", "retrieval")}


def collected(observed: Observed) -> list[dict[str, Any]]:
    return httpx.get(f"{observed.collector.url}/spans", timeout=10).json()


def turn_trace(observed: Observed, timeout: float = 60) -> list[dict[str, Any]]:
    """The spans of the trace whose root is the gateway's span of the turn's request, once
    every service's spans are in and every parent is known."""
    deadline = time.monotonic() + timeout
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        spans = collected(observed)
        roots = [s for s in spans if s["service"] == "owui-gateway" and s["kind"] == "server"
                 and s["name"] == "POST /api/v1/chats/*" and s["parent_span_id"] is None]
        if roots:
            trace = [s for s in spans if s["trace_id"] == roots[-1]["trace_id"]]
            ids = {s["span_id"] for s in trace}
            if ({s["service"] for s in trace} >= SERVICES
                    and all(s["parent_span_id"] in ids for s in trace if s is not roots[-1])):
                return trace
        time.sleep(0.3)
    raise AssertionError("no complete trace of the turn:\n" + json.dumps(
        [(s["service"], s["name"], s["trace_id"][:8]) for s in spans], indent=0)[-4000:])


def test_a_chat_turn_is_one_trace_across_the_five(observed: Observed,
                                                    client: httpx.Client) -> None:
    knowledge = client.post("/api/v1/knowledge/create",
                            json={"name": "Traced", "description": "trace test"}).json()
    text = "# Quokka\n\nThe quokka lives on Rottnest Island and is mostly nocturnal.\n"
    file = client.post("/api/v1/files/", files={"file": ("quokka.md", text.encode())}).json()
    added = client.post(f"/api/v1/knowledge/{knowledge['id']}/file/add",
                        json={"file_id": file["id"]})
    assert added.status_code == 200, added.text
    chat_id = client.post("/api/v1/chats/new", json={"chat": {}}).json()["id"]
    httpx.delete(f"{observed.collector.url}/spans", timeout=10)
    with client.stream("POST", f"/api/v1/chats/{chat_id}/completions",
                       json={"model": "gpt-fake", "content": "Where does the quokka live?",
                             "collection_names": [knowledge["id"]],
                             "params": {"max_tokens": 3}}) as response:
        assert response.status_code == 200
        response.read()

    trace = turn_trace(observed)
    by_id = {s["span_id"]: s for s in trace}
    # Each service's server span hangs under a client span of the service that called it.
    callers = {"owui-chat": "owui-gateway", "owui-agent": "owui-chat"}
    for span in trace:
        if span["kind"] == "server" and span["parent_span_id"] is not None:
            parent = by_id[span["parent_span_id"]]
            assert parent["kind"] == "client" and parent["service"] != span["service"], span
            if span["service"] in callers:
                assert parent["service"] == callers[span["service"]], (span, parent)
    # Our own spans, with what they are about and nothing a user wrote.
    names = {s["name"]: s for s in trace}
    provider = [s for s in trace if s["name"] == "provider.call"
                and s["attributes"].get("gen_ai.request.model") == "gpt-fake"]
    assert provider and provider[0]["service"] == "owui-inference"
    assert provider[0]["attributes"]["gen_ai.usage.output_tokens"] == 3
    search = names["retrieval.vector_search"]
    assert search["service"] == "owui-retrieval" and search["attributes"]["owui.search.hits"] >= 1
    assert "retrieval.embed_query" in names
    # SQL through SQLAlchemy is traced too (the chat service's raw driver pool is not).
    sql = [s for s in trace if s["attributes"].get("db.system") == "sqlite"]
    assert sql and all("quokka" not in json.dumps(s).lower() for s in sql), json.dumps(\
        sorted({(s["service"], s["name"]) for s in trace}))
    for span in trace:
        flat = json.dumps(span["attributes"])
        assert "quokka" not in flat.lower() and "Bearer" not in flat, span
    # Server spans are named by route template, never the raw chat id.
    assert not any(chat_id in s["name"] for s in trace)


def test_log_lines_carry_the_trace_id(observed: Observed, client: httpx.Client) -> None:
    response = client.get("/api/v1/chats/", params={"page": "1", "token": "secret-in-query"})
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in observed.services["chat"].log().splitlines()
                 if line.startswith("{") and request_id in line]
        if lines:
            break
        time.sleep(0.2)
    assert lines, "no log line of the request at the chat service"
    trace_id = lines[0]["trace_id"]
    assert len(trace_id) == 32 and len(lines[0]["span_id"]) == 16
    # The request's spans keep its path, never its query string.
    deadline = time.monotonic() + 20
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        spans = [s for s in collected(observed) if s["trace_id"] == trace_id]
        if {s["service"] for s in spans} >= {"owui-gateway", "owui-chat"}:
            break
        time.sleep(0.3)
    assert {s["service"] for s in spans} >= {"owui-gateway", "owui-chat"}, spans
    assert "secret-in-query" not in json.dumps(spans)
    targets = [s["attributes"].get("http.target") for s in spans if s["kind"] == "server"]
    assert "/api/v1/chats/" in targets, spans
