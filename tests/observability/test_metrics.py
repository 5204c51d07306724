"""GET /metrics in Prometheus text on each service's own port (the gateway's on
OWUI_METRICS_PORT only), parsed with prometheus-client's parser: counters move by exactly the
requests made, labelled by route template."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import bearer
from tests.observability.conftest import Observed
from tests.realtime.sockets import Socket
from tests.support.procs import free_port, spawn


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def requests_of(found: dict, service: str, route: str, method: str, status: str) -> float:
    key = ("owui_http_requests_total", frozenset({("service", service), ("route", route),
                                                  ("method", method), ("status", status)}))
    return found.get(key, 0.0)


def test_every_backend_serves_metrics_without_a_token(observed: Observed) -> None:
    for name in ("inference", "retrieval", "agent", "chat"):
        found = samples(f"{observed.url(name)}/metrics")
        assert any(key[0] == "process_resident_memory_bytes" for key in found), name
        # Pool gauges exist for every service that opened its database.
        assert any(key[0] == "owui_db_connections_open" for key in found), name


def test_counters_move_by_exactly_the_requests_made(observed: Observed) -> None:
    chat = f"{observed.url('chat')}/metrics"
    gateway = f"http://127.0.0.1:{observed.metrics_port}/metrics"
    before_chat, before_gateway = samples(chat), samples(gateway)
    made = 7
    with httpx.Client(headers=bearer(observed.token), timeout=30) as http:
        for _ in range(made):  # through the gateway, hence also at the chat service
            assert http.get(f"{observed.url('gateway')}/api/v1/chats/").status_code == 200
        ids = [f"no-such-chat-{i}" for i in range(3)]
        for chat_id in ids:  # three raw paths, one template
            assert http.get(f"{observed.url('chat')}/api/v1/chats/{chat_id}").status_code == 404
    for _ in range(2):  # no token: refused before routing
        assert httpx.get(f"{observed.url('chat')}/api/v1/chats/").status_code == 401
    after_chat, after_gateway = samples(chat), samples(gateway)

    def moved(before: dict, after: dict, *labels: str) -> float:
        return requests_of(after, *labels) - requests_of(before, *labels)

    assert moved(before_chat, after_chat, "chat", "/api/v1/chats/", "GET", "200") == made
    assert moved(before_chat, after_chat, "chat", "/api/v1/chats/{id}", "GET", "404") == 3
    assert moved(before_chat, after_chat, "chat", "unmatched", "GET", "401") == 2
    assert moved(before_gateway, after_gateway, "gateway", "/api/v1/chats/*", "GET",
                 "200") == made
    # Never a raw path as a label.
    assert not any("no-such-chat" in value for key in after_chat for _, value in key[1])
    count = ("owui_http_request_duration_seconds_count",
             frozenset({("service", "chat"), ("route", "/api/v1/chats/"), ("method", "GET")}))
    assert after_chat[count] - before_chat.get(count, 0.0) == made


def test_the_gateway_never_answers_metrics_on_its_public_port(observed: Observed) -> None:
    public = httpx.get(f"{observed.url('gateway')}/metrics", timeout=10)
    assert public.status_code == 404 and "owui_http_requests" not in public.text
    found = samples(f"http://127.0.0.1:{observed.metrics_port}/metrics")
    assert any(key[0] == "owui_http_requests_total" for key in found)
    other = httpx.get(f"http://127.0.0.1:{observed.metrics_port}/anything", timeout=10)
    assert other.status_code == 404


def test_a_chat_turn_is_counted(observed: Observed, client: httpx.Client) -> None:
    before_chat = samples(f"{observed.url('chat')}/metrics")
    before_inference = samples(f"{observed.url('inference')}/metrics")
    chat_id = client.post("/api/v1/chats/new", json={"chat": {}}).json()["id"]
    with client.stream("POST", f"/api/v1/chats/{chat_id}/completions",
                       json={"model": "gpt-fake", "content": "Hi",
                             "params": {"max_tokens": 4}}) as response:
        assert response.status_code == 200
        response.read()
    after_chat = samples(f"{observed.url('chat')}/metrics")
    after_inference = samples(f"{observed.url('inference')}/metrics")
    done = ("owui_chat_turns_total", frozenset({("outcome", "done")}))
    assert after_chat.get(done, 0) - before_chat.get(done, 0) == 1
    first = ("owui_chat_turn_time_to_first_token_seconds_count", frozenset())
    assert after_chat.get(first, 0) - before_chat.get(first, 0) == 1
    calls = [k for k in after_inference if k[0] == "owui_provider_calls_total"
             and ("model", "gpt-fake") in k[1] and ("outcome", "ok") in k[1]]
    assert calls and sum(after_inference[k] - before_inference.get(k, 0) for k in calls) >= 1
    # The raw-ASGI hot path of inference is labelled by its path, not "unmatched".
    assert requests_of(after_inference, "inference", "/api/v1/inference/chat/completions",
                       "POST", "200") - requests_of(before_inference, "inference",
                                                    "/api/v1/inference/chat/completions",
                                                    "POST", "200") >= 1
    out = [k for k in after_inference if k[0] == "owui_provider_tokens_total"
           and ("model", "gpt-fake") in k[1] and ("direction", "out") in k[1]]
    assert sum(after_inference[k] - before_inference.get(k, 0) for k in out) >= 4


def test_several_workers_count_together(tmp_path: Path) -> None:
    """uvicorn --workers 2 with PROMETHEUS_MULTIPROC_DIR: whichever worker answers the scrape
    sums what both served (prometheus-client's multiprocess mode)."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    port = free_port()
    proc = spawn([sys.executable, "-m", "uvicorn", "owui.inference.app:app", "--workers", "2",
                  "--port", str(port)], "workers", port,
                 {"OWUI_DATA_DIR": str(tmp_path / "data"), "PROMETHEUS_MULTIPROC_DIR":
                  str(shared), "JWT_SECRET_KEY": "observability-test-secret-0123456789abcdef"},
                 tmp_path)
    try:
        proc.wait_ready(timeout=90, path="/healthz")
        made = 20
        with httpx.Client(timeout=10) as http:  # new connections: both workers take some
            for _ in range(made):
                assert http.get(proc.url + "/healthz", headers={"Connection": "close"}
                                ).status_code == 200
        found = samples(f"{proc.url}/metrics")
        assert requests_of(found, "inference", "/healthz", "GET", "200") >= made
        assert len({p.name.split("_")[-1] for p in shared.glob("counter_*.db")}) == 2
    finally:
        proc.stop()


async def test_socket_io_connections_are_gauged(observed: Observed) -> None:
    chat = f"{observed.url('chat')}/metrics"
    gauge = ("owui_socketio_connections", frozenset())
    opened = ("owui_socketio_connections_opened_total", frozenset())
    before = samples(chat)
    sockets = [await Socket().connect(observed.url("chat"), observed.token) for _ in range(2)]
    try:
        during = samples(chat)
        assert during[gauge] - before[gauge] == 2
        assert during[opened] - before[opened] == 2
    finally:
        for socket in sockets:
            await socket.close()
    for _ in range(100):  # the server hears the close a moment later
        if samples(chat)[gauge] == before[gauge]:
            break
        await asyncio.sleep(0.1)
    assert samples(chat)[gauge] == before[gauge]
