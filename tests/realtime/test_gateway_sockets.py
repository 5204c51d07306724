"""socket.io through the gateway, as the web app reaches it: the upgrade authenticated there (a
bearer, the `token` query parameter), the socket.io token checked by chat; a signed-out token
refused at connect, and the socket it held closed."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import socketio

from tests.realtime.conftest import Account, Stack, _account
from tests.realtime.sockets import PATH, Socket, connected


async def test_the_token_query_parameter_opens_the_socket(stack: Stack, ada: Account) -> None:
    socket = Socket()
    await socket.client.connect(f"{stack.gateway}?token={ada.token}", auth={"token": ada.token},
                                transports=["websocket"], socketio_path=PATH, wait_timeout=10)
    try:
        joined = await socket.call("user-join", {"auth": {"token": ada.token}})
        assert joined["status"] is True and joined["id"] == ada.id
    finally:
        await socket.close()


async def test_another_users_token_in_auth_is_refused(stack: Stack, ada: Account,
                                                      bea: Account) -> None:
    socket = Socket()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await socket.connect(stack.gateway, bea.token, upgrade=ada.token)
    assert socket.refusal == {"message": "auth.token is not the user this connection was "
                                         "opened as."}


async def test_a_signed_out_token_is_refused_and_its_socket_closed(stack: Stack) -> None:
    carol = _account(stack, "Carol")
    socket = await connected(stack.gateway, carol.token)
    async with httpx.AsyncClient(base_url=stack.gateway, headers=carol.headers) as http:
        assert (await http.post("/api/v1/auths/signout")).status_code == 200
    # The gateway closes it at its next revocation sweep (REVOCATION_SYNC_INTERVAL, 1 s).
    await asyncio.wait_for(socket.client.wait(), 30)
    assert not socket.client.connected
    await socket.close()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Socket().connect(stack.gateway, carol.token)
