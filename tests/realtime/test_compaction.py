"""Compacting a chat (`POST /api/v1/chats/{id}/compact`, Open WebUI 0.12's), through the
gateway, the five real services and the fake provider: the branch summarised by the model and
the summary stored on the newest message; the next turn's model sees the summary instead of
the messages it replaced; Open WebUI's reasons for not compacting; another user's chat, a chat
gone, no model, a model unknown and the provider down, each leaving the chat as it was."""

from __future__ import annotations

import json
import secrets
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from owui.core.tokens import issue_token
from tests.realtime.conftest import Account, Stack
from tests.realtime.sockets import connected
from tests.realtime.test_webapp_turn import active_false, send
from tests.realtime.webapp import app_body
from tests.support.procs import Proc, spawn

OLDEST = "my cat is called Pixel"


def chat_config(stack: Stack, **values: Any) -> None:
    """The admin's chat settings, set on the chat service with an admin's signed token."""
    admin, _ = issue_token(stack.full.env["JWT_SECRET_KEY"], str(uuid.uuid4()), "admin",
                           timedelta(minutes=5))
    url = f"{stack.chat}/api/v1/chats/config"
    headers = {"Authorization": f"Bearer {admin}"}
    current = httpx.get(url, headers=headers, timeout=30).json()
    answer = httpx.post(url, headers=headers, json={**current, **values}, timeout=30)
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def enabled(stack: Stack) -> Iterator[None]:
    chat_config(stack, ENABLE_CONTEXT_COMPACTION=True)
    try:
        yield
    finally:
        chat_config(stack, ENABLE_CONTEXT_COMPACTION=False)


def history(*turns: tuple[str, str], model: str | None = "gpt-fake") -> dict[str, Any]:
    """A chat's `history` of user/assistant pairs, the last answer current."""
    messages: dict[str, Any] = {}
    parent = None
    for question, reply in turns:
        for role, content in (("user", question), ("assistant", reply)):
            ident = str(uuid.uuid4())
            messages[ident] = {"id": ident, "parentId": parent, "childrenIds": [],
                               "role": role, "content": content, "timestamp": 1764892800,
                               **({"model": model} if role == "assistant" and model else {})}
            if parent:
                messages[parent]["childrenIds"].append(ident)
            parent = ident
    return {"messages": messages, "currentId": parent}


def http(stack: Stack, account: Account) -> httpx.Client:
    return httpx.Client(base_url=stack.gateway, headers=account.headers, timeout=60)


def new_chat(stack: Stack, account: Account, chat: dict[str, Any]) -> dict[str, Any]:
    with http(stack, account) as client:
        answer = client.post("/api/v1/chats/new", json={"chat": chat})
    assert answer.status_code == 200, answer.text
    return answer.json()


def compact(stack: Stack, account: Account, chat_id: str,
            body: dict[str, Any] | None = None) -> httpx.Response:
    with http(stack, account) as client:
        return client.post(f"/api/v1/chats/{chat_id}/compact", json=body)


def stored(stack: Stack, account: Account, chat_id: str) -> dict[str, Any]:
    with http(stack, account) as client:
        answer = client.get(f"/api/v1/chats/{chat_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def long_chat(stack: Stack, account: Account) -> dict[str, Any]:
    return new_chat(stack, account, {"title": "Long", "models": ["gpt-fake"],
                                     "history": history((OLDEST, "Nice name."),
                                                        ("and my dog?", "Tell me."),
                                                        ("Rex", "Noted."))})


def summaries(chat: dict[str, Any]) -> dict[str, str]:
    return {i: m["contextSummary"] for i, m in chat["chat"]["history"]["messages"].items()
            if "contextSummary" in m}


def test_off_unless_the_admin_turned_it_on(stack: Stack, ada: Account) -> None:
    chat = long_chat(stack, ada)
    answer = compact(stack, ada, chat["id"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "compacted": False, "reason": "disabled",
                             "context_usage": None}
    assert summaries(stored(stack, ada, chat["id"])) == {}


async def test_a_compacted_chat_goes_on_from_its_summary(stack: Stack, ada: Account,
                                                         enabled: None) -> None:
    chat = long_chat(stack, ada)
    before = stored(stack, ada, chat["id"])
    answer = compact(stack, ada, chat["id"], {"model": None})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["ok"] is True and result["compacted"] is True
    assert result["dropped_messages"] == 5 and result["kept_messages"] == 1
    after = stored(stack, ada, chat["id"])
    current = after["chat"]["history"]["currentId"]
    assert list(summaries(after)) == [current]
    assert len(summaries(after)[current]) == result["summary_chars"] > 0
    # Nothing else changed: the messages are all there, as they were.
    for ident, message in before["chat"]["history"]["messages"].items():
        kept = {k: v for k, v in after["chat"]["history"]["messages"][ident].items()
                if k != "contextSummary"}
        assert kept == message
    # The next turn: its model (the echo, which answers with what it was sent) sees the
    # summary and what follows the checkpoint, not the messages summarised.
    socket = await connected(stack.gateway, ada.token)
    try:
        body = app_body(socket.client.get_sid(), "what next?", model="gpt-fake-echo",
                        chat_id=chat["id"], parent_id=current)
        body["background_tasks"] = {}
        assert (await send(stack, ada, body)).status_code == 200
        await socket.wait_for(active_false(chat["id"]))
    finally:
        await socket.close()
    echoed = stored(stack, ada, chat["id"])["chat"]["history"]["messages"][body["id"]]
    sent = json.loads(echoed["content"])["messages"]
    assert sent[0]["role"] == "system" and "compacted" in sent[0]["content"]
    assert summaries(after)[current] in sent[0]["content"]
    assert [m["content"] for m in sent[1:]] == ["Noted.", "what next?"]
    # Compacted again: only what came since the checkpoint is summarised (the checkpoint and
    # the question), and the newest message is the next checkpoint.
    again = compact(stack, ada, chat["id"])
    assert again.status_code == 200, again.text
    assert again.json()["dropped_messages"] == 2 and again.json()["compacted"] is True
    assert list(summaries(stored(stack, ada, chat["id"]))) == [current, body["id"]]


def test_open_webui_reasons_for_not_compacting(stack: Stack, ada: Account,
                                               enabled: None) -> None:
    short = new_chat(stack, ada, {"title": "Short", "history": history(("hi", "hello"))})
    answer = compact(stack, ada, short["id"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "compacted": False, "reason": "too_short",
                             "context_usage": None}
    empty = new_chat(stack, ada, {"title": "Empty", "models": ["gpt-fake"]})
    assert compact(stack, ada, empty["id"]).json()["reason"] == "empty"
    assert summaries(stored(stack, ada, short["id"])) == {}


def test_refused_without_storing_anything(stack: Stack, ada: Account, bea: Account,
                                          enabled: None) -> None:
    chat = long_chat(stack, ada)
    # Another user's chat: as if there were none.
    answer = compact(stack, bea, chat["id"])
    assert answer.status_code == 404 and chat["id"] in answer.json()["detail"]
    # No model anywhere: not named, none answered, none on the chat.
    bare = new_chat(stack, ada, {"title": "Bare", "history": history(
        ("a", "b"), ("c", "d"), model=None)})
    answer = compact(stack, ada, bare["id"])
    assert answer.status_code == 400 and "model" in answer.json()["detail"]
    # A model no provider serves.
    answer = compact(stack, ada, chat["id"], {"model": "no-such-model"})
    assert answer.status_code == 404, answer.text
    assert "no-such-model" in answer.json()["detail"]
    # A bad body.
    answer = compact(stack, ada, chat["id"], {"model": 12})
    assert answer.status_code == 422, answer.text
    assert summaries(stored(stack, ada, chat["id"])) == {}
    assert summaries(stored(stack, ada, bare["id"])) == {}
    # A chat that is gone.
    with http(stack, ada) as client:
        assert client.delete(f"/api/v1/chats/{chat['id']}").status_code == 200
    assert compact(stack, ada, chat["id"]).status_code == 404


async def test_not_while_an_answer_is_written(stack: Stack, ada: Account,
                                              enabled: None) -> None:
    chat = long_chat(stack, ada)
    current = stored(stack, ada, chat["id"])["chat"]["history"]["currentId"]
    socket = await connected(stack.gateway, ada.token)
    try:
        body = app_body(socket.client.get_sid(), "a long one", model="gpt-fake-slow",
                        chat_id=chat["id"], parent_id=current)
        body["params"], body["background_tasks"] = {"max_tokens": 40}, {}
        assert (await send(stack, ada, body)).status_code == 200
        await socket.wait_for(lambda events: any(
            e["data"]["type"] == "response:completion" for e in socket.of(chat["id"])))
        answer = compact(stack, ada, chat["id"])
        assert answer.status_code == 409, answer.text
        assert "Wait for the current response" in answer.json()["detail"]
        await socket.wait_for(active_false(chat["id"]), within=60)
    finally:
        await socket.close()
    assert summaries(stored(stack, ada, chat["id"])) == {}


def _restart(proc: Proc) -> None:
    """The fake provider again, on its port, as it was started (tests/support/procs.py), in
    the same Proc: the stack's teardown stops the new process as it would have the old."""
    args = [sys.executable, "-m", "uvicorn", "tests.fakes.openai:app", "--port",
            str(proc.port), "--log-level", "warning"]
    again = spawn(args, f"{proc.name}-again-{secrets.token_hex(2)}", proc.port, proc.env,
                  proc.log_path.parent)
    proc.process, proc.log_path = again.process, again.log_path
    proc.wait_ready(path="/healthz")


def test_the_provider_down_is_named_and_nothing_is_stored(stack: Stack, ada: Account,
                                                          enabled: None) -> None:
    chat = long_chat(stack, ada)
    provider = stack.full.fakes["openai"]
    provider.stop()
    try:
        answer = compact(stack, ada, chat["id"])
    finally:
        _restart(provider)
    # Unreachable: a 503 naming the provider's connection.
    assert answer.status_code == 503, answer.text
    assert f"{provider.url}/v1" in answer.json()["detail"]
    assert summaries(stored(stack, ada, chat["id"])) == {}
    # Back up: the same chat compacts.
    assert compact(stack, ada, chat["id"]).json()["compacted"] is True
