"""The message toolbar's flows through Open WebUI 0.12's turn (`POST /api/chat/completions` with
`session_id`), as the app sends them (Chat.svelte): regenerate, edit (a new branch), continue an
answer, several models at once, a temporary chat; five real services and the fake provider.
What is stored is read back as the app reads it after a reload."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.realtime.conftest import Account, Stack, ada, stack  # noqa: F401 (fixtures)
from tests.realtime.webapp import app_body

WAIT_S = 60


def _client(full: Stack, account: Account) -> httpx.Client:
    # The chat service itself: what is checked here is its turn, not the gateway's proxy.
    return httpx.Client(base_url=full.chat, headers=account.headers, timeout=60)


def _send(http: httpx.Client, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    answer = http.post("/api/chat/completions", json=body)
    assert answer.status_code == status, answer.text
    return answer.json()


def _done(http: httpx.Client, chat_id: str, *message_ids: str) -> dict[str, Any]:
    """The stored chat once each answer is done (the turn writes them as it ends)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        chat = http.get(f"/api/v1/chats/{chat_id}").json()
        messages = chat["chat"]["history"]["messages"]
        if all(messages.get(m, {}).get("done") for m in message_ids) and \
                not http.get(f"/api/tasks/chat/{chat_id}").json()["task_ids"]:
            return chat
        time.sleep(0.2)
    raise AssertionError(f"answers {message_ids} of chat {chat_id} not done in {WAIT_S} s")


def _first(http: httpx.Client, content: str = "Hello", model: str = "gpt-fake"
           ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    body = app_body("a-socket", content, model=model)
    chat_id = _send(http, body)["chat_id"]
    return chat_id, body, _done(http, chat_id, body["id"])


def _again(body: dict[str, Any], chat_id: str, **changes: Any) -> dict[str, Any]:
    """The app's body for another answer to the same user message (a new answer id)."""
    return {**body, "chat_id": chat_id, "id": str(uuid.uuid4()), **changes}


def test_regenerate_adds_a_sibling_answer(stack: Stack, ada: Account) -> None:  # noqa: F811
    with _client(stack, ada) as http:
        chat_id, body, _ = _first(http)
        again = _again(body, chat_id)
        assert _send(http, again)["task_ids"] == [again["id"]]
        chat = _done(http, chat_id, again["id"])
    history = chat["chat"]["history"]
    question = history["messages"][body["user_message"]["id"]]
    assert question["childrenIds"] == [body["id"], again["id"]]
    assert history["currentId"] == again["id"] and chat["title"] != "New Chat"


def test_edit_is_a_new_branch_and_the_old_one_stays(stack: Stack, ada: Account) -> None:  # noqa: F811
    with _client(stack, ada) as http:
        chat_id, body, _ = _first(http, "Original question")
        edited = app_body("a-socket", "Edited question", chat_id=chat_id, parent_id=None)
        _send(http, edited)
        chat = _done(http, chat_id, edited["id"])
    messages = chat["chat"]["history"]["messages"]
    roots = [m for m in messages.values() if m["parentId"] is None]
    assert sorted(m["content"] for m in roots) == ["Edited question", "Original question"]
    assert chat["chat"]["history"]["currentId"] == edited["id"]
    assert messages[body["id"]]["done"]  # the first branch's answer is kept


def test_continue_grows_the_same_answer(stack: Stack, ada: Account) -> None:  # noqa: F811
    with _client(stack, ada) as http:
        chat_id, body, before = _first(http)
        answer_id = body["id"]
        said = before["chat"]["history"]["messages"][answer_id]["content"]
        count = len(before["chat"]["history"]["messages"])
        more = {**body, "chat_id": chat_id, "model": "gpt-fake-echo", "id": answer_id,
                "assistant_message_id": answer_id}
        assert _send(http, more)["task_ids"] == [answer_id]
        time.sleep(0.3)
        chat = _done(http, chat_id, answer_id)
    messages = chat["chat"]["history"]["messages"]
    grown = messages[answer_id]["content"]
    assert len(messages) == count and grown.startswith(said) and len(grown) > len(said)
    # The model was given the answer so far, to go on from.
    assert said in grown[len(said):]
    assert messages[answer_id]["output"][0]["content"][0]["text"] == grown


def test_continue_of_a_message_not_in_the_chat_is_refused(
        stack: Stack, ada: Account) -> None:  # noqa: F811
    with _client(stack, ada) as http:
        chat_id, body, before = _first(http)
        wrong = {**body, "chat_id": chat_id, "id": "nope", "assistant_message_id": "nope"}
        _send(http, wrong, 400)
        question = {**body, "chat_id": chat_id, "id": body["user_message"]["id"],
                    "assistant_message_id": body["user_message"]["id"]}
        _send(http, question, 400)
        after = http.get(f"/api/v1/chats/{chat_id}").json()
    assert after["chat"]["history"] == before["chat"]["history"]


def test_several_models_answer_at_once(stack: Stack, ada: Account) -> None:  # noqa: F811
    with _client(stack, ada) as http:
        body = app_body("a-socket", "Compare yourselves")
        second = str(uuid.uuid4())
        body["message_ids"] = [{"model_id": "gpt-fake", "message_id": body["id"], "modelIdx": 0},
                               {"model_id": "gpt-fake-echo", "message_id": second,
                                "modelIdx": 1}]
        body["user_message"]["models"] = ["gpt-fake", "gpt-fake-echo"]
        started = _send(http, body)
        assert started["task_ids"] == [body["id"], second]
        chat = _done(http, started["chat_id"], body["id"], second)
    messages = chat["chat"]["history"]["messages"]
    question = messages[body["user_message"]["id"]]
    assert question["childrenIds"] == [body["id"], second]
    # Both models on the question: the app shows the answers side by side (was ["gpt-fake"]).
    assert question["models"] == ["gpt-fake", "gpt-fake-echo"]
    assert (messages[body["id"]]["model"], messages[body["id"]]["modelIdx"]) == ("gpt-fake", 0)
    assert (messages[second]["model"], messages[second]["modelIdx"]) == ("gpt-fake-echo", 1)


def test_a_temporary_chat_is_not_stored(stack: Stack, ada: Account) -> None:  # noqa: F811
    with _client(stack, ada) as http:
        before = http.get("/api/v1/chats/", params={"include_pinned": True}).json()
        body = app_body("a-socket", "Off the record", chat_id="temporary:a-socket",
                        messages=[{"role": "user", "content": "Off the record"}])
        started = _send(http, body)
        assert started["chat_id"] == "temporary:a-socket"
        deadline = time.monotonic() + WAIT_S
        while http.get("/api/tasks/chat/temporary:a-socket").json().get("task_ids") and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        after = http.get("/api/v1/chats/", params={"include_pinned": True}).json()
    assert [c["id"] for c in after] == [c["id"] for c in before]
