"""Unread after an answer the user did not see, as Open WebUI's sidebar shows it: a web-app
turn that ends while no page of its chat is open leaves the chat unread in the chat list; the
app's `events:chat {type: last_read_at}` (sent when a chat's page loads or is left) reads it;
an answer that ends while a page of the chat is open leaves it read. Real sockets, the five
services, the fake provider."""

from __future__ import annotations

from typing import Any

import httpx

from tests.realtime.conftest import Account, Stack
from tests.realtime.sockets import connected
from tests.realtime.test_webapp_turn import active_false, send
from tests.realtime.webapp import app_body


async def listed(stack: Stack, account: Account, chat_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.gateway, headers=account.headers,
                                 timeout=60) as http:
        answer = await http.get("/api/v1/chats/", params={"page": 1})
    assert answer.status_code == 200, answer.text
    return next(c for c in answer.json() if c["id"] == chat_id)


def unread(entry: dict[str, Any]) -> bool:
    """The app's rule: read up to before its last change."""
    return entry["last_read_at"] is not None and entry["last_read_at"] < entry["updated_at"]


async def read_event(socket: Any, chat_id: str) -> Any:
    return await socket.call("events:chat", {"chat_id": chat_id,
                                             "data": {"type": "last_read_at"}})


async def test_an_answer_not_seen_leaves_the_chat_unread_until_read(
        stack: Stack, ada: Account, bea: Account) -> None:
    socket = await connected(stack.gateway, ada.token)  # the user's app, on another page
    other = await connected(stack.gateway, bea.token)
    try:
        answer = await send(stack, ada, app_body(socket.client.get_sid(), "while away"))
        assert answer.status_code == 200, answer.text
        chat_id = answer.json()["chat_id"]
        await socket.wait_for(active_false(chat_id))
        assert unread(await listed(stack, ada, chat_id))
        # Another user cannot read it for her.
        assert await read_event(other, chat_id) is False
        assert unread(await listed(stack, ada, chat_id))
        # Her app opens the chat: read, and it stays so.
        assert await read_event(socket, chat_id) is True
        entry = await listed(stack, ada, chat_id)
        assert not unread(entry) and entry["last_read_at"] == entry["updated_at"]
    finally:
        await socket.close()
        await other.close()


async def test_an_answer_seen_on_the_chat_page_leaves_it_read(stack: Stack,
                                                              ada: Account) -> None:
    socket = await connected(stack.gateway, ada.token)
    try:
        first = await send(stack, ada, app_body(socket.client.get_sid(), "first"))
        chat_id = first.json()["chat_id"]
        await socket.wait_for(active_false(chat_id))
        # The chat's page is open (joined, as the app does on load) when the next one ends.
        assert await socket.call("events:chat", {"chat_id": chat_id,
                                                 "data": {"type": "join"}}) is True
        socket.events.clear()
        body = app_body(socket.client.get_sid(), "second", chat_id=chat_id,
                        parent_id=first.json()["task_ids"][0])
        assert (await send(stack, ada, body)).status_code == 200
        await socket.wait_for(active_false(chat_id))
        entry = await listed(stack, ada, chat_id)
        assert not unread(entry)
        # The page is left (the app leaves the room) and another answer ends: unread again.
        assert await socket.call("events:chat", {"chat_id": chat_id,
                                                 "data": {"type": "leave"}}) is True
        socket.events.clear()
        body = app_body(socket.client.get_sid(), "third", chat_id=chat_id, parent_id=body["id"])
        assert (await send(stack, ada, body)).status_code == 200
        await socket.wait_for(active_false(chat_id))
        assert unread(await listed(stack, ada, chat_id))
    finally:
        await socket.close()


async def test_marked_unread_by_hand_stays_so_and_a_bad_read_event_is_refused(
        stack: Stack, ada: Account) -> None:
    socket = await connected(stack.gateway, ada.token)
    try:
        first = await send(stack, ada, app_body(socket.client.get_sid(), "kept unread"))
        chat_id = first.json()["chat_id"]
        await socket.wait_for(active_false(chat_id))
        async with httpx.AsyncClient(base_url=stack.gateway, headers=ada.headers,
                                     timeout=60) as http:
            assert (await http.post(f"/api/v1/chats/{chat_id}/unread")).status_code == 200
        assert (await listed(stack, ada, chat_id))["last_read_at"] == 0
        for bad in ({"chat_id": "", "data": {"type": "last_read_at"}},
                    {"chat_id": "x" * 500, "data": {"type": "last_read_at"}},
                    {"chat_id": "no-such-chat", "data": {"type": "last_read_at"}}):
            assert await socket.call("events:chat", bad) is False
        assert (await listed(stack, ada, chat_id))["last_read_at"] == 0
    finally:
        await socket.close()
