"""The gateway as a reverse proxy: routing, streaming, disconnects, failures, body checks, CORS."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.support.procs import closed_port


@pytest.fixture(scope="module")
def user(gateway: str) -> dict:
    return signup(gateway)


def _echo(gateway: str, user: dict, **kwargs) -> dict:
    response = httpx.post(f"{gateway}/api/v1/agents/echo", headers={
        **bearer(user["token"]), **kwargs.pop("headers", {})}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_forwards_path_query_and_body_unchanged(gateway: str, user: dict) -> None:
    response = httpx.post(f"{gateway}/api/v1/agents/a%20b/echo?x=1&y=%2F",
                          headers=bearer(user["token"]), json={"hello": "wörld"})
    seen = response.json()
    assert seen["raw_path"] == "/api/v1/agents/a%20b/echo"
    assert seen["query"] == "x=1&y=%2F"
    assert seen["method"] == "POST"
    assert seen["body"] == '{"hello":"wörld"}'


def test_strips_identity_headers_and_sets_its_own(gateway: str, user: dict) -> None:
    seen = _echo(gateway, user, json={}, headers={
        "X-User-Id": "admin", "X-OWUI-User-Role": "admin", "X-Forwarded-User": "root",
        "Remote-User": "root", "X-Request-ID": "trace-123", "X-Custom": "kept"})
    headers = dict(seen["headers"])
    for name in ("x-user-id", "x-owui-user-role", "x-forwarded-user", "remote-user"):
        assert name not in headers
    assert headers["x-custom"] == "kept"
    assert headers["x-request-id"] == "trace-123"
    assert headers["authorization"] == f"Bearer {user['token']}"
    assert headers["x-forwarded-for"] == "127.0.0.1"


def test_request_id_is_made_and_echoed(gateway: str, user: dict) -> None:
    response = httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(user["token"]))
    assert len(response.headers["x-request-id"]) == 32
    given = httpx.get(f"{gateway}/api/v1/auths/", headers={**bearer(user["token"]),
                                                          "X-Request-ID": "abc-1"})
    assert given.headers["x-request-id"] == "abc-1"


def test_routes_each_prefix_to_its_service(stack, gateway: str, user: dict) -> None:
    # Through the gateway, each path answers exactly as its service answers it directly.
    for service, path in (
        ("inference", "/api/v1/inference/nothing"), ("inference", "/openai/nothing"),
        ("inference", "/api/v1/models/nothing"), ("retrieval", "/api/v1/retrieval/nothing"),
        ("retrieval", "/api/v1/files/nothing"), ("chat", "/api/v1/chats/nothing"),
        ("chat", "/api/v1/folders/nothing"), ("chat", "/api/v1/users/user/settings/nothing"),
    ):
        proxied = httpx.get(gateway + path, headers=bearer(user["token"]))
        direct = httpx.get(stack.url(service) + path, headers=bearer(user["token"]))
        assert proxied.status_code == direct.status_code, path
        assert proxied.json() == direct.json(), path
    # /api/v1/agentsX is not under /api/v1/agents: the gateway answers it with its own 404.
    assert httpx.get(f"{gateway}/api/v1/agentsX/echo", headers=bearer(user["token"])
                     ).status_code == 404


def test_streaming_is_not_buffered(gateway: str, user: dict) -> None:
    arrivals: list[tuple[float, bytes]] = []
    start = time.monotonic()
    with httpx.stream("POST", f"{gateway}/api/v1/agents/stream", headers=bearer(user["token"]),
                      json={}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_raw():
            arrivals.append((time.monotonic() - start, chunk))
    body = b"".join(chunk for _, chunk in arrivals)
    assert body == b"data: first\n\ndata: second\n\n"
    first_at = next(t for t, c in arrivals if b"first" in c)
    second_at = next(t for t, c in arrivals if b"second" in c)
    assert second_at - first_at >= 0.4, arrivals


def test_client_disconnect_cancels_upstream(stack, gateway: str, user: dict) -> None:
    def stats() -> dict:
        return httpx.get(f"{gateway}/api/v1/agents/stats", headers=bearer(user["token"])).json()

    before = stats()
    with httpx.stream("POST", f"{gateway}/api/v1/agents/endless", headers=bearer(user["token"]),
                      json={}) as response:
        for chunk in response.iter_raw():
            if chunk:
                break
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        now = stats()
        if now["streams_cancelled"] > before["streams_cancelled"]:
            break
        time.sleep(0.05)
    assert now["streams_cancelled"] == before["streams_cancelled"] + 1
    assert now["streams_finished"] == before["streams_finished"]


def test_unreachable_service_is_503_naming_it(make_gateway, user: dict) -> None:
    gw = make_gateway(RETRIEVAL_SERVICE_URL=f"http://127.0.0.1:{closed_port()}").url
    token = signup(gw)["token"]
    response = httpx.get(f"{gw}/api/v1/retrieval/anything", headers=bearer(token))
    assert response.status_code == 503
    assert "retrieval" in response.json()["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= 5


def test_slow_service_is_504_naming_it(make_gateway) -> None:
    gw = make_gateway(UPSTREAM_READ_TIMEOUT="0.5").url
    token = signup(gw)["token"]
    response = httpx.post(f"{gw}/api/v1/agents/sleep", headers=bearer(token), json={})
    assert response.status_code == 504
    assert "agent" in response.json()["detail"]


def test_body_checks(make_gateway) -> None:
    gw = make_gateway(MAX_BODY_SIZE="2KB", MAX_JSON_SIZE="1KB").url
    headers = bearer(signup(gw)["token"])
    url = f"{gw}/api/v1/agents/echo"
    big_json = httpx.post(url, headers={**headers, "content-type": "application/json"},
                          content=b'{"a":"' + b"x" * 1500 + b'"}')
    assert big_json.status_code == 413
    big_upload = httpx.post(url, headers={**headers, "content-type": "application/octet-stream"},
                            content=b"x" * 3000)
    assert big_upload.status_code == 413

    def chunked():
        for _ in range(10):
            yield b"y" * 500

    streamed = httpx.post(url, headers={**headers, "content-type": "application/octet-stream"},
                          content=chunked())
    assert streamed.status_code == 413
    malformed = httpx.post(url, headers={**headers, "content-type": "application/json"},
                           content=b'{"a": ')
    assert malformed.status_code == 400
    assert malformed.json()["detail"].startswith("Malformed JSON body")
    wrong_type = httpx.post(url, headers={**headers, "content-type": "text/xml"},
                            content=b"<a/>")
    assert wrong_type.status_code == 415
    assert "text/xml" in wrong_type.json()["detail"]
    yaml = httpx.post(url, headers={**headers, "content-type": "application/yaml"},
                      content=b"steps: []\n")
    assert yaml.status_code == 200 and yaml.json()["body"] == "steps: []\n"
    ok = httpx.post(url, headers=headers, files={"file": ("a.txt", b"hello")})
    assert ok.status_code == 200 and "multipart/form-data" in str(ok.json()["headers"])


def test_own_routes_get_the_same_body_checks(gateway: str) -> None:
    malformed = httpx.post(f"{gateway}/api/v1/auths/signin",
                           headers={"content-type": "application/json"}, content=b"{nope")
    assert malformed.status_code == 400
    validation = httpx.post(f"{gateway}/api/v1/auths/signin", json={"email": "x"})
    assert validation.status_code == 422


def test_bad_content_length_is_400(stack, user: dict) -> None:
    port = stack.services["gateway"].port
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/v1/agents/echo HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + user["token"].encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: -5\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.split(b" ")[1] == b"400"


def test_cors(make_gateway) -> None:
    gw = make_gateway(CORS_ALLOW_ORIGINS="https://app.example;https://other.example").url
    preflight = httpx.options(f"{gw}/api/v1/chats/", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    refused = httpx.options(f"{gw}/api/v1/chats/", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = httpx.get(f"{gw}/healthz", headers={"Origin": "https://other.example"})
    assert simple.headers["access-control-allow-origin"] == "https://other.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
