"""The Action button's events reach the pages showing the chat: an action that emits a status
and text (`__event_emitter__`) is heard on the chat's socket as a turn's events are, through the
chat service; an action on a chat that is not the caller's still answers, its events go
nowhere. All five services, every process real."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.realtime.sockets import connected
from tests.support.fullstack import FullStack, full_stack

ACTION = '''
class Action:
    async def action(self, body: dict, __event_emitter__=None) -> dict:
        await __event_emitter__({"type": "status",
                                 "data": {"description": "Summarising", "done": False}})
        await __event_emitter__({"type": "message", "data": {"content": " (summarised)"}})
        return {"done": True}
'''


# A chat whose answer the action is run on (the event names a message of the chat).
MESSAGES = {
    "question-1": {"id": "question-1", "parentId": None, "childrenIds": ["message-1"],
                   "role": "user", "content": "hi", "timestamp": 1},
    "message-1": {"id": "message-1", "parentId": "question-1", "childrenIds": [],
                  "role": "assistant", "content": "hello", "model": "gpt-fake",
                  "timestamp": 2, "done": True}}
CHAT = {"title": "Act", "models": ["gpt-fake"],
        "history": {"messages": MESSAGES, "currentId": "message-1"},
        "messages": list(MESSAGES.values())}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullStack]:
    with full_stack(secrets.token_urlsafe(32), tmp_path_factory.mktemp("action-data"),
                    tmp_path_factory.mktemp("action-logs")) as running:
        yield running


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.text)
    return response.json()


async def test_an_actions_events_reach_the_chats_pages(stack: FullStack) -> None:
    admin = signup(stack.gateway, name="Ada", email="ada@action.test")
    other = signup(stack.gateway, name="Bo", email="bo@action.test")
    as_admin = bearer(str(admin["token"]))
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=60) as http:
        action_id = f"summary_{uuid.uuid4().hex[:6]}"
        ok(await http.post("/api/v1/functions/create", headers=as_admin, json={
            "id": action_id, "name": "Summary", "content": ACTION, "meta": {}}))
        ok(await http.post(f"/api/v1/functions/id/{action_id}/toggle", headers=as_admin))
        chat_id = ok(await http.post("/api/v1/chats/new", headers=as_admin,
                                     json={"chat": CHAT}))["id"]
        socket = await connected(stack.url("chat"), str(admin["token"]))
        try:
            body = {"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}],
                    "id": "message-1", "chat_id": chat_id, "session_id": "s"}
            answer = await http.post(f"/api/chat/actions/{action_id}", json=body,
                                     headers=as_admin)
            assert ok(answer) == {"done": True}
            heard = await socket.wait_for(lambda events: len(
                [e for e in events if e.get("chat_id") == chat_id]) >= 2)
        finally:
            await socket.close()
        # Another user's chat: the action answers; its events reach nobody.
        stranger = await http.post(f"/api/chat/actions/{action_id}", json=body,
                                   headers=bearer(str(other["token"])))
        assert ok(stranger) == {"done": True}
    mine = [e for e in heard if e.get("chat_id") == chat_id]
    assert [e["message_id"] for e in mine] == ["message-1", "message-1"]
    assert [e["data"]["type"] for e in mine] == ["status", "message"]
    assert mine[1]["data"]["data"] == {"content": " (summarised)"}
