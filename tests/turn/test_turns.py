"""The chat turn end to end through `owui up` (the gateway, chat, agent, inference and retrieval
services as real processes) and the fake OpenAI provider: streamed answers stored whatever the
client does, retrieval with citations, tools, stop, regenerate, edit, two turns at once, a long
chat trimmed, Open WebUI's endpoint with the OpenAI SDK, and bad input."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import bearer, signup
from tests.helpers_cli import UpStack, wait_until
from tests.turn.conftest import (
    Reader,
    messages,
    new_chat,
    of_type,
    turn,
    wait_all_ready,
    wait_message,
    words,
)


def test_a_turn_streams_the_answer_and_stores_it(client: httpx.Client) -> None:
    chat_id = new_chat(client)
    events = turn(client, chat_id, content="Hello there", params={"max_tokens": 5})
    start, done = events[0], events[-1]
    assert start["type"] == "start" and start["user_message"]["content"] == "Hello there"
    assert start["message"]["status"] == "pending"
    assert "".join(e["content"] for e in of_type(events, "token")) == words(5)
    assert of_type(events, "usage")[0]["usage"]["completion_tokens"] == 5
    assert done["type"] == "done" and done["message"]["status"] == "done"
    stored = messages(client, chat_id)
    answer = stored[start["message"]["id"]]
    assert answer["content"] == words(5) and answer["status"] == "done" and answer["done"]
    assert answer["model"] == "gpt-fake" and answer["usage"]["completion_tokens"] == 5
    assert answer["timings"]["first_token_ms"] > 0
    assert answer["parentId"] == start["user_message"]["id"]
    chat = client.get(f"/api/v1/chats/{chat_id}").json()
    assert chat["chat"]["history"]["currentId"] == answer["id"]
    # After the first exchange the chat is titled in the background (the fake's words).
    wait_until(lambda: client.get(f"/api/v1/chats/{chat_id}").json()["title"] != "New Chat",
               60, "the chat titled")
    assert client.get(f"/api/v1/chats/{chat_id}").json()["title"].startswith("word0")


def test_a_collection_attached_answers_with_citations(client: httpx.Client) -> None:
    knowledge = client.post("/api/v1/knowledge/create",
                            json={"name": "Reactors", "description": "turn test"}).json()
    text = ("# Zephyr-9\n\nThe Zephyr-9 reactor is cooled by molten salt circulating "
            "through a graphite core.\n\nIts control rods are made of boron carbide.\n")
    file = client.post("/api/v1/files/", files={"file": ("zephyr.md", text.encode())}).json()
    added = client.post(f"/api/v1/knowledge/{knowledge['id']}/file/add",
                        json={"file_id": file["id"]})
    assert added.status_code == 200, added.text
    chat_id = new_chat(client)
    events = turn(client, chat_id, model="gpt-fake-echo",
                  content="How is the Zephyr-9 reactor cooled?",
                  collection_names=[knowledge["id"]])
    statuses = [e["event"]["data"] for e in of_type(events, "status")]
    assert statuses[0]["action"] == "knowledge_search" and not statuses[0]["done"]
    assert statuses[-1]["done"] and statuses[-1]["count"] == 1
    sources = of_type(events, "citations")[0]["sources"]
    assert sources[0]["source"]["name"] == "zephyr.md"
    passage = sources[0]["passages"][0]
    assert passage["file_id"] == file["id"] and passage["score"] > 0
    assert any("molten salt" in d for d in sources[0]["document"])
    # The model got the context in Open WebUI's RAG template (the echo model says it back).
    answer = of_type(events, "done")[0]["message"]
    sent = json.loads(answer["content"])["messages"][-1]["content"]
    assert '<source id="1" name="zephyr.md">' in sent and "molten salt" in sent
    stored = messages(client, chat_id)[answer["id"]]
    assert stored["sources"][0]["source"]["name"] == "zephyr.md"
    assert [s["done"] for s in stored["statusHistory"]] == [False, True]


def test_web_search_when_asked(client: httpx.Client) -> None:
    chat_id = new_chat(client)
    events = turn(client, chat_id, model="gpt-fake-echo", content="Why do sea otters hold hands?",
                  features={"web_search": True})
    sources = of_type(events, "citations")[0]["sources"]
    assert sources and all(s["source"]["type"] == "web" for s in sources)
    assert any("/pages/otters" in s["source"]["url"] for s in sources)
    sent = json.loads(events[-1]["message"]["content"])["messages"][-1]["content"]
    assert "hold hands while they sleep" in sent
    assert "the web" in of_type(events, "status")[0]["event"]["data"]["description"]


def test_a_failed_search_is_said_and_the_answer_comes_without_it(client: httpx.Client) -> None:
    chat_id = new_chat(client)
    events = turn(client, chat_id, content="anything", collection_names=["no-such-collection"],
                  params={"max_tokens": 3})
    failed = of_type(events, "status")[-1]["event"]["data"]
    assert failed["error"] and "no-such-collection" in failed["description"]
    assert not of_type(events, "citations")
    assert events[-1]["message"]["status"] == "done"
    assert events[-1]["message"]["content"] == words(3)


def test_a_turn_with_a_tool_call(client: httpx.Client) -> None:
    chat_id = new_chat(client)
    events = turn(client, chat_id, model="gpt-fake-agent", tool_ids=["calculator"],
                  content='call: calculator {"expression": "6 * 7"}')
    assert of_type(events, "tool_call")[0]["name"] == "calculator"
    assert of_type(events, "tool_result")[0]["content"] == "42"
    answer = events[-1]["message"]
    assert answer["content"] == "Tool results: 42"
    stored = messages(client, chat_id)[answer["id"]]
    call = stored["tool_calls"][0]
    assert call["name"] == "calculator" and call["result"] == "42" and call["error"] is False
    assert json.loads(call["arguments"]) == {"expression": "6 * 7"}


def test_a_client_that_leaves_after_the_first_token_finds_the_whole_answer(
        client: httpx.Client) -> None:
    chat_id = new_chat(client)
    form = {"model": "gpt-fake-slow", "content": "take your time", "params": {"max_tokens": 15}}
    with client.stream("POST", f"/api/v1/chats/{chat_id}/completions", json=form) as response:
        start = Reader(response).until("token")[0]
    # Gone after one token; the answer (1.5 s more of tokens) is stored all the same.
    answer = wait_message(client, chat_id, start["message"]["id"])
    assert answer["status"] == "done" and answer["content"] == words(15)


def test_stop_keeps_what_was_written(client: httpx.Client) -> None:
    chat_id = new_chat(client)
    form = {"model": "gpt-fake-slow", "content": "a long one", "params": {"max_tokens": 300}}
    with client.stream("POST", f"/api/v1/chats/{chat_id}/completions", json=form) as response:
        reader = Reader(response)
        reader.until("token")
        message_id = reader.start["message"]["id"]
        stopped = client.post(f"/api/v1/chats/{chat_id}/messages/{message_id}/stop")
        assert stopped.status_code == 200, stopped.text
        events = reader.until(None)  # the stream ends, with the stopped message
    body = stopped.json()
    assert body["status"] == "stopped" and body["content"].startswith("word0 ")
    assert len(body["content"]) < len(words(300))
    assert events[-1]["type"] == "done" and events[-1]["message"]["status"] == "stopped"
    streamed = "".join(e["content"] for e in events if e["type"] == "token")
    assert streamed == body["content"]
    assert messages(client, chat_id)[message_id]["content"] == body["content"]
    again = client.post(f"/api/v1/chats/{chat_id}/messages/{message_id}/stop")
    assert again.status_code == 200 and again.json()["status"] == "stopped"


def test_regenerate_and_edit_keep_the_tree(client: httpx.Client) -> None:
    chat_id = new_chat(client)
    first = turn(client, chat_id, content="first question", params={"max_tokens": 2})[0]
    user_id, answer_id = first["user_message"]["id"], first["message"]["id"]
    # Regenerate: a second answer under the same user message.
    again = turn(client, chat_id, parent_id=user_id, params={"max_tokens": 4})
    assert again[0]["user_message"] is None and again[-1]["message"]["parentId"] == user_id
    # Edit: the question asked anew, as a new root (a branch beside the first).
    edited = turn(client, chat_id, content="the question, edited", parent_id=None,
                  params={"max_tokens": 3})
    stored = messages(client, chat_id)
    assert stored[user_id]["childrenIds"] == [answer_id, again[-1]["message"]["id"]]
    assert stored[again[-1]["message"]["id"]]["content"] == words(4)
    new_user = edited[0]["user_message"]
    assert new_user["parentId"] is None and stored[new_user["id"]]["content"].endswith("edited")
    branch = client.get(f"/api/v1/chats/{chat_id}/messages", params={"path": "current"}).json()
    assert [m["id"] for m in branch] == [new_user["id"], edited[-1]["message"]["id"]]
    # Continue on the first branch: the model sees that branch's history only.
    follow = turn(client, chat_id, model="gpt-fake-echo", content="and then?",
                  parent_id=answer_id)
    seen = json.loads(follow[-1]["message"]["content"])["messages"]
    assert [m["content"] for m in seen] == ["first question", words(2), "and then?"]


def test_two_turns_at_once_are_both_stored_in_order(client: httpx.Client) -> None:
    chat_id = new_chat(client)
    root = turn(client, chat_id, content="start", params={"max_tokens": 1})[-1]["message"]
    results: dict[str, list[dict[str, Any]]] = {}

    def send(name: str, **form: Any) -> None:
        results[name] = turn(client, chat_id, model="gpt-fake-slow", content=name,
                             params={"max_tokens": 5}, **form)

    # Two tabs that both saw `root` as the last message: two branches under it.
    threads = [threading.Thread(target=send, args=(n,), kwargs={"parent_id": root["id"]})
               for n in ("tab one", "tab two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stored = messages(client, chat_id)
    users = [results[n][0]["user_message"]["id"] for n in ("tab one", "tab two")]
    assert sorted(stored[root["id"]]["childrenIds"]) == sorted(users)
    for name in ("tab one", "tab two"):
        answer = stored[results[name][-1]["message"]["id"]]
        assert answer["status"] == "done" and answer["content"] == words(5)
    # Without a parent, each goes after the chat's current message at the time it is stored.
    threads = [threading.Thread(target=send, args=(n,)) for n in ("next one", "next two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stored = messages(client, chat_id)
    first, second = sorted((results["next one"], results["next two"]),
                           key=lambda r: list(stored).index(r[0]["user_message"]["id"]))
    assert second[0]["user_message"]["parentId"] == first[0]["message"]["id"]
    assert all(stored[r[-1]["message"]["id"]]["status"] == "done" for r in (first, second))


def test_a_500_message_chat_is_trimmed_not_failed(client: httpx.Client) -> None:
    history: dict[str, Any] = {}
    parent = None
    for index in range(500):
        role = "user" if index % 2 == 0 else "assistant"
        history[f"m{index}"] = {"id": f"m{index}", "parentId": parent, "role": role,
                                "content": f"message {index} " + "lorem ipsum " * 40}
        parent = f"m{index}"
    chat_id = new_chat(client, title="Long", history={"messages": history,
                                                      "currentId": parent})
    events = turn(client, chat_id, model="gpt-fake-echo", content="the newest question",
                  system="You are terse.", context_length=4096, params={"max_tokens": 512})
    answer = events[-1]["message"]
    assert answer["status"] == "done"
    seen = json.loads(answer["content"])["messages"]
    assert seen[0] == {"role": "system", "content": "You are terse."}
    assert seen[-1]["content"] == "the newest question"
    assert 3 < len(seen) < 100  # the newest that fit in 4096 - 512 tokens, in order
    kept = [int(m["content"].split()[1]) for m in seen[1:-1]]
    assert kept == list(range(500 - len(kept), 500))


def test_openwebui_endpoint_speaks_openai(client: httpx.Client, up: UpStack) -> None:
    chat_id = new_chat(client)
    token = client.headers["authorization"].split()[1]
    sdk = openai.OpenAI(base_url=f"{up.url('gateway')}/api", api_key=token)
    stream = sdk.chat.completions.create(
        model="gpt-fake", messages=[{"role": "user", "content": "hi from the SDK"}],
        stream=True, max_tokens=4, extra_body={"chat_id": chat_id})
    content = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert content == words(4)
    stored = list(messages(client, chat_id).values())
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["content"] == words(4) and stored[1]["status"] == "done"
    # Open WebUI's front end stores the user's message before it asks for the answer: a
    # message whose id the chat already has is answered again, not stored twice.
    again = client.post("/api/chat/completions", json={
        "model": "gpt-fake", "chat_id": chat_id, "id": "answer-two", "max_tokens": 3,
        "messages": [{"role": "user", "content": "hi from the SDK", "id": stored[0]["id"]}]})
    assert again.status_code == 200, again.text
    assert again.json()["choices"][0]["message"]["content"] == words(3)
    tree = messages(client, chat_id)
    assert tree[stored[0]["id"]]["childrenIds"] == [stored[1]["id"], "answer-two"]
    # Without a chat: answered, not stored; not streamed: one chat.completion.
    plain = sdk.chat.completions.create(
        model="gpt-fake", messages=[{"role": "user", "content": "no chat"}], max_tokens=2)
    assert plain.choices[0].message.content == words(2)


def test_bad_requests_get_clear_errors(client: httpx.Client) -> None:
    chat_id = new_chat(client)
    url = f"/api/v1/chats/{chat_id}/completions"
    missing = client.post("/api/v1/chats/no-such-chat/completions",
                          json={"model": "gpt-fake", "content": "hi"})
    assert missing.status_code == 404 and "no-such-chat" in missing.json()["detail"]
    nothing = client.post(url, json={"model": "gpt-fake"})
    assert nothing.status_code == 422 and "content" in nothing.json()["detail"]
    stray = client.post(url, json={"model": "gpt-fake", "content": "hi", "parent_id": "nope"})
    assert stray.status_code == 400 and "nope" in stray.json()["detail"]
    unknown = client.post(url, json={"model": "no-such-model", "content": "hi"})
    assert unknown.status_code == 404 and "no-such-model" in unknown.json()["detail"]
    no_messages = client.post("/api/chat/completions", json={"model": "gpt-fake"})
    assert no_messages.status_code == 422 and "messages" in no_messages.json()["detail"]
    reserved = client.post(url, json={"model": "gpt-fake", "content": "hi",
                                      "params": {"stream": False}})
    assert reserved.status_code == 422


def test_another_users_chat_is_not_found(client: httpx.Client, up: UpStack) -> None:
    chat_id = new_chat(client)
    answer = turn(client, chat_id, content="mine", params={"max_tokens": 1})[-1]["message"]
    other = signup(up.url("gateway"), name="Other", email="other@turn.test")
    with httpx.Client(base_url=up.url("gateway"), headers=bearer(other["token"]),
                      timeout=60) as stranger:
        sent = stranger.post(f"/api/v1/chats/{chat_id}/completions",
                             json={"model": "gpt-fake", "content": "theirs"})
        assert sent.status_code == 404, sent.text
        stop = stranger.post(f"/api/v1/chats/{chat_id}/messages/{answer['id']}/stop")
        assert stop.status_code == 404, stop.text
        borrowed = stranger.post("/api/chat/completions", json={
            "model": "gpt-fake", "chat_id": chat_id,
            "messages": [{"role": "user", "content": "theirs"}]})
        assert borrowed.status_code == 404, borrowed.text
    assert len(messages(client, chat_id)) == 2


def _kill_mid_stream(client: httpx.Client, up: UpStack, service: str) -> tuple[
        list[dict[str, Any]], dict[str, Any], str]:
    chat_id = new_chat(client)
    form = {"model": "gpt-fake-slow", "content": "long", "params": {"max_tokens": 300}}
    with client.stream("POST", f"/api/v1/chats/{chat_id}/completions", json=form) as response:
        reader = Reader(response)
        reader.until("token")
        up.services()[service].kill()
        events = reader.until(None)
    stored = wait_message(client, chat_id, reader.start["message"]["id"])
    # The stream ended on the error, not after the 30 s the whole answer would have taken.
    assert len(stored["content"]) < len(words(300))
    return events, stored, chat_id


@pytest.mark.parametrize("service", ["inference", "agent"])
def test_a_service_killed_mid_stream(client: httpx.Client, up: UpStack, service: str) -> None:
    """The answer so far is stored as an error naming the service; the client gets an error
    event and the end of the stream, not a hang. `owui up` restarts the service."""
    events, stored, _chat = _kill_mid_stream(client, up, service)
    error = events[-1]
    assert error["type"] == "error" and service in error["detail"]
    assert stored["status"] == "error" and service in stored["error"]["content"]
    assert stored["content"].startswith("word0")
    wait_all_ready(up)


def test_chat_service_killed_mid_turn_leaves_no_pending_answer(client: httpx.Client,
                                                               up: UpStack) -> None:
    chat_id = new_chat(client)
    form = {"model": "gpt-fake-slow", "content": "long", "params": {"max_tokens": 300}}
    with client.stream("POST", f"/api/v1/chats/{chat_id}/completions", json=form) as response:
        reader = Reader(response)
        start = reader.until("token")[0]
        up.services()["chat"].kill()
        with pytest.raises(httpx.RemoteProtocolError):  # the gateway breaks the stream off
            reader.until(None)
    wait_all_ready(up)
    stored = wait_message(client, chat_id, start["message"]["id"])
    assert stored["status"] == "error" and "Interrupted" in stored["error"]["content"]
