"""The socket.io server alone: who may connect (the token's signature, expiry and role, the
same user as the upgrade), the app's events, and a chat's room for its owner only."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import timedelta

import aiohttp
import httpx
import pytest
import socketio

from tests.realtime.conftest import Alone
from tests.realtime.sockets import PATH, Socket, connected
from tests.support.procs import start_service


async def test_a_valid_token_connects_and_the_app_events_are_answered(alone: Alone) -> None:
    token = alone.token("ada")
    chat_id = alone.new_chat(token)
    socket = await connected(alone.chat.url, token)
    try:
        joined = await socket.call("user-join", {"auth": {"token": token}})
        assert joined == {"status": True, "id": "ada", "role": "user"}
        assert await socket.call("heartbeat", {}) is None
        # Acknowledged true or false, as Open WebUI does.
        assert await socket.call("events:chat", {"chat_id": chat_id,
                                                 "data": {"type": "join"}}) is True
        assert await socket.call("events:chat", {"chat_id": chat_id,
                                                 "data": {"type": "leave"}}) is True
    finally:
        await socket.close()


async def _refused(alone: Alone, token: str | None, upgrade: str | None = None) -> str:
    """The message of the connect refused (socket.io's CONNECT_ERROR)."""
    socket = Socket()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await socket.connect(alone.chat.url, token, upgrade=upgrade)
    assert isinstance(socket.refusal, dict), socket.refusal
    return socket.refusal["message"]


@pytest.mark.parametrize("case", ["none", "garbage", "expired", "forged", "pending"])
async def test_a_bad_token_is_refused_at_connect(alone: Alone, case: str) -> None:
    upgrade = alone.token("bea")
    token = {"none": None, "garbage": "not-a-jwt",
             "expired": alone.token("bea", expires=timedelta(seconds=-5)),
             "forged": Alone(alone.chat, "another-secret-of-32-characters!!").token("bea"),
             "pending": alone.token("bea", role="pending")}[case]
    message = await _refused(alone, token, upgrade=upgrade)
    expected = {"none": "Not authenticated", "pending": "pending approval"}.get(
        case, "Invalid or expired token")
    assert expected in message


async def test_a_token_of_another_user_than_the_upgrade_is_refused(alone: Alone) -> None:
    message = await _refused(alone, alone.token("cid"), upgrade=alone.token("dot"))
    assert "not the user this connection was opened as" in message


async def test_an_upgrade_without_a_token_is_refused_before_socket_io(alone: Alone) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Socket().connect(alone.chat.url, alone.token("eve"), upgrade="not-a-jwt")
    # The polling transport's first request: the service's own 401, never a 500.
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{alone.chat.url}/{PATH}/",
                                  params={"EIO": "4", "transport": "polling"})
    assert response.status_code == 401 and response.json()["detail"] == "Not authenticated"


async def test_polling_serves_a_valid_token_too(alone: Alone) -> None:
    """Every polling request is authenticated (a browser sends its cookie on each): here the
    client's HTTP session carries the bearer header."""
    token = alone.token("fay")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        socket = Socket(http)
        await socket.connect(alone.chat.url, token, transport="polling")
        try:
            assert await socket.call("user-join", {"auth": {"token": token}}) == {
                "status": True, "id": "fay", "role": "user"}
        finally:  # not waiting for the long poll in flight: closing the session ends it
            await socket.client.eio.disconnect(abort=True)


async def test_joining_another_users_chat_gets_nothing(alone: Alone) -> None:
    owner, other = alone.token("gus"), alone.token("hal")
    chat_id = alone.new_chat(owner)
    socket = await connected(alone.chat.url, other)
    try:
        answer = await socket.call("events:chat", {"chat_id": chat_id, "data": {"type": "join"}})
        assert answer is False
        for bad in ({"chat_id": chat_id, "data": {"type": "dance"}}, {"chat_id": 7}, "x", None,
                    {"chat_id": "x" * 500, "data": {"type": "join"}}):
            assert await socket.call("events:chat", bad) is False
        # user-join with someone else's token joins nothing either.
        answer = await socket.call("user-join", {"auth": {"token": owner}})
        assert answer == {"status": False, "detail": "auth.token is not this socket's user."}
        assert (await socket.call("user-join", {}))["status"] is False
    finally:
        await socket.close()


async def test_a_stopping_service_closes_its_sockets(alone: Alone,
                                                     tmp_path_factory: pytest.TempPathFactory
                                                     ) -> None:
    """SIGTERM: the open sockets are closed (the client sees it at once and may reconnect
    elsewhere) and the process exits cleanly, well inside `owui up`'s 5 s."""
    env = {**alone.chat.env, "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("realtime-stop"))}
    proc = start_service("chat", env, tmp_path_factory.mktemp("realtime-stop-logs"),
                         wait=False)
    sockets: list[Socket] = []
    try:
        await asyncio.to_thread(proc.wait_ready, 90)
        token = alone.token("ivy")
        sockets += [await connected(proc.url, token) for _ in range(3)]
        started = time.monotonic()
        proc.process.send_signal(signal.SIGTERM)
        for socket in sockets:
            await asyncio.wait_for(socket.client.wait(), 5)
        code = await asyncio.to_thread(proc.process.wait, 5)
        # uvicorn raises the signal again once it has shut down: a clean end reads as -15.
        assert code in (0, -signal.SIGTERM) and time.monotonic() - started < 5
        assert "Application shutdown complete" in proc.log()
    finally:
        proc.stop()
        for socket in sockets:
            await socket.close()
