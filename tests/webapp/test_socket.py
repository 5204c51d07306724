"""The gateway's pass-through of the web app's socket (/ws/socket.io, to the chat service):
authenticated at the upgrade, frames and close codes both ways, closed once its token is
revoked. The chat service is a small echo stand-in here (tests/webapp/echo_socket.py)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import bearer
from tests.support.procs import Proc, free_port, spawn

SOCKET = "/ws/socket.io/?EIO=4&transport=websocket"
PASSWORD = "correct-horse"


@pytest.fixture
def echo(tmp_path: Path) -> Iterator[Proc]:
    port = free_port()
    proc = spawn([sys.executable, "-m", "uvicorn", "tests.webapp.echo_socket:app", "--port",
                  str(port), "--log-level", "warning"], "echo", port, {}, tmp_path / "logs")
    try:
        proc.wait_ready(path="/healthz")
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def gateway(start_gateway: Callable[..., Proc], echo: Proc) -> Proc:
    return start_gateway(CHAT_SERVICE_URL=echo.url, REVOCATION_SYNC_INTERVAL="0.2")


def _ws(gateway: Proc, path: str = SOCKET, **headers: str) -> ClientConnection:
    return connect(f"ws://127.0.0.1:{gateway.port}{path}", additional_headers=headers,
                   open_timeout=5, close_timeout=2)


def _user(gateway: Proc, email: str) -> dict:
    response = httpx.post(f"{gateway.url}/api/v1/auths/signup",
                          json={"name": "S", "email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def _closed_code(socket: ClientConnection, within: float) -> int | None:
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            socket.recv(timeout=max(0.01, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None
    return None


def test_upgrade_needs_a_good_credential(gateway: Proc) -> None:
    user = _user(gateway, "refused@example.com")
    for headers in ({}, {"Cookie": "token=garbage"}, {"Authorization": "Bearer x.y.z"}):
        with pytest.raises(InvalidStatus) as refused:
            _ws(gateway, **headers)
        assert refused.value.response.status_code == 401, headers
        assert b"detail" in refused.value.response.body
    with pytest.raises(InvalidStatus) as cross_site:  # cookie from another site's page
        _ws(gateway, Cookie=f"token={user['token']}", Origin="https://evil.example")
    assert cross_site.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as elsewhere:
        _ws(gateway, "/api/v1/chats/socket", Authorization=f"Bearer {user['token']}")
    assert elsewhere.value.response.status_code == 404


def test_frames_pass_both_ways_with_the_callers_token(gateway: Proc) -> None:
    user = _user(gateway, "frames@example.com")
    origin = f"http://127.0.0.1:{gateway.port}"
    for headers, path in (({"Cookie": f"token={user['token']}", "Origin": origin}, SOCKET),
                          ({}, SOCKET + f"&token={user['token']}")):
        with _ws(gateway, path, **headers) as socket:
            seen = json.loads(socket.recv(timeout=5))
            assert seen["authorization"] == f"Bearer {user['token']}"
            assert seen["cookie"] is None
            assert "token" not in seen["query"] and "EIO=4" in seen["query"]
            socket.send('42["heartbeat",{}]')
            assert socket.recv(timeout=5) == '42["heartbeat",{}]'
            socket.send(b"\x00\x01binary")
            assert socket.recv(timeout=5) == b"\x00\x01binary"
            socket.send("close:4000")  # the service's close code reaches the client
            assert _closed_code(socket, 5) == 4000
    polling = httpx.get(f"{gateway.url}/ws/socket.io/?EIO=4&transport=polling",
                        cookies={"token": user["token"]})
    assert polling.status_code == 200 and polling.text.startswith("polling EIO=4")


def test_revoked_tokens_lose_their_sockets(gateway: Proc) -> None:
    admin = _user(gateway, "admin@example.com")
    user = _user(gateway, "revoked@example.com")
    origin = f"http://127.0.0.1:{gateway.port}"
    with _ws(gateway, Cookie=f"token={user['token']}", Origin=origin) as socket, \
            _ws(gateway, Authorization=f"Bearer {admin['token']}") as other:
        socket.recv(timeout=5)
        other.recv(timeout=5)
        out = httpx.post(f"{gateway.url}/api/v1/auths/signout", headers=bearer(user["token"]))
        assert out.status_code == 200
        assert _closed_code(socket, 2) == 4401
        other.send("still here")
        assert other.recv(timeout=5) == "still here"  # another user's socket stays open
    with pytest.raises(InvalidStatus):
        _ws(gateway, Cookie=f"token={user['token']}", Origin=origin)

    # An API key's socket carries a short-lived JWT minted for it; deleting the key ends it.
    key = httpx.post(f"{gateway.url}/api/v1/auths/api_key",
                     headers=bearer(admin["token"])).json()["api_key"]
    with _ws(gateway, SOCKET + f"&token={key}") as socket:
        seen = json.loads(socket.recv(timeout=5))
        assert seen["authorization"].startswith("Bearer ey") and key not in seen["authorization"]
        httpx.delete(f"{gateway.url}/api/v1/auths/api_key", headers=bearer(admin["token"]))
        assert _closed_code(socket, 2) == 4401

    # A deleted account and a role change end the sessions, sockets included.
    for change in ("delete", "role"):
        victim = _user(gateway, f"{change}@example.com")
        with _ws(gateway, Authorization=f"Bearer {victim['token']}") as socket:
            socket.recv(timeout=5)
            if change == "delete":
                done = httpx.delete(f"{gateway.url}/api/v1/users/{victim['id']}",
                                    headers=bearer(admin["token"]))
            else:
                done = httpx.post(f"{gateway.url}/api/v1/users/{victim['id']}/update",
                                  headers=bearer(admin["token"]), json={"role": "admin"})
            assert done.status_code == 200
            assert _closed_code(socket, 2) == 4401, change


def test_revocation_on_another_replica_closes_within_the_sync(start_gateway, echo: Proc,
                                                              tmp_path: Path) -> None:
    shared = str(tmp_path / "shared")
    one = start_gateway(CHAT_SERVICE_URL=echo.url, OWUI_DATA_DIR=shared,
                        REVOCATION_SYNC_INTERVAL="0.3")
    two = start_gateway(CHAT_SERVICE_URL=echo.url, OWUI_DATA_DIR=shared,
                        REVOCATION_SYNC_INTERVAL="0.3")
    user = _user(one, "replica@example.com")
    with _ws(two, Authorization=f"Bearer {user['token']}") as socket:
        socket.recv(timeout=5)
        httpx.post(f"{one.url}/api/v1/auths/signout", headers=bearer(user["token"]))
        assert _closed_code(socket, 1.5) == 4401


def test_unreachable_chat_service_is_a_clear_refusal(start_gateway) -> None:
    gateway = start_gateway()
    user = _user(gateway, "down@example.com")
    with pytest.raises(InvalidStatus) as refused:
        _ws(gateway, Authorization=f"Bearer {user['token']}")
    assert refused.value.response.status_code == 503
    assert b"chat" in refused.value.response.body
    assert 1 <= int(refused.value.response.headers["Retry-After"]) <= 5
