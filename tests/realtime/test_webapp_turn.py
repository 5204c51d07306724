"""Open WebUI 0.12's chat turn over socket.io, through the five real services, the fake provider
and Redis: the POST answered at once, the sixteen events in Open WebUI's order and shapes, what
is stored, a second chat replica hearing the turn, stop and resume through /api/tasks, and bad
input refused as the rest of the API refuses it."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.realtime.conftest import Account, Stack
from tests.realtime.sockets import Socket, connected
from tests.realtime.webapp import EVENTS, app_body, grouped, kinds
from tests.support.conformance import compare, samples

# What the fake `agent` model answers (its `reply:` directive), so that the title, tags and
# follow-up tasks, asked through the same model, find their JSON in the answer.
ANSWER = {"title": "Socket talk", "tags": ["tag1", "tag2", "tag3"],
          "follow_ups": ["Suggested next message 1", "Suggested next message 2"]}
REPLY = "reply: " + json.dumps(ANSWER)
AGENT = "gpt-fake-agent"


def active_false(chat_id: str) -> Any:
    return lambda events: any(e["chat_id"] == chat_id and e["data"]["type"] == "chat:active"
                              and e["data"]["data"]["active"] is False for e in events)


async def send(stack: Stack, account: Account, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.gateway, headers=account.headers,
                                 timeout=60) as http:
        return await http.post("/api/chat/completions", json=body)


async def fetch(url: str, account: Account | None = None) -> Any:
    async with httpx.AsyncClient(headers=account.headers if account else {}, timeout=60) as http:
        answer = await http.get(url)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_turn_is_heard_as_open_webui_sends_it(stack: Stack, ada: Account) -> None:
    socket = await connected(stack.gateway, ada.token)
    try:
        body = app_body(socket.client.get_sid(), REPLY, model=AGENT)
        answer = await send(stack, ada, body)
        assert answer.status_code == 200, answer.text
        assert compare(answer.json(), samples()["POST /api/chat/completions -> response"],
                       None) == []
        chat_id = answer.json()["chat_id"]
        assert answer.json()["task_ids"] == [body["id"]]
        events = socket.of(chat_id) if await socket.wait_for(active_false(chat_id)) else []
    finally:
        await socket.close()
    theirs = grouped(samples()[EVENTS])
    ours = grouped(events)
    assert [n for n, _ in ours] == [n for n, _ in theirs]
    for (name, mine), (_, sample) in zip(ours, theirs, strict=True):
        assert compare(mine, sample, None) == [], name
    first, *rest = events
    assert first["message_id"] == body["user_message"]["id"]
    assert {e["message_id"] for e in rest} == {body["id"]}
    said = "".join(e["data"]["data"]["delta"] for e in events
                   if e["data"]["type"] == "response:completion"
                   and e["data"]["data"].get("type") == "response.output_text.delta")
    assert said == json.dumps(ANSWER)
    final = next(e["data"]["data"] for e in events
                 if e["data"]["type"] == "chat:completion" and e["data"]["data"].get("done"))
    assert final["title"] == "Socket talk"
    assert final["output"][0]["content"][0]["text"] == said
    assert events[2]["data"]["data"] == REPLY  # the provisional title: the user's message
    kinds_heard = {e["data"]["type"]: e["data"]["data"] for e in events}
    assert kinds_heard["chat:message:follow_ups"] == {"follow_ups": ANSWER["follow_ups"]}
    assert kinds_heard["chat:tags"] == ANSWER["tags"]
    # Stored as the app reads it back: its ids, the answer, title, tags and follow-ups.
    chat = await fetch(f"{stack.gateway}/api/v1/chats/{chat_id}", ada)
    assert chat["title"] == "Socket talk"
    assert sorted(chat["meta"]["tags"]) == ANSWER["tags"]
    history = chat["chat"]["history"]
    assert history["currentId"] == body["id"]
    user, reply = history["messages"][body["user_message"]["id"]], \
        history["messages"][body["id"]]
    assert user["content"] == REPLY and user["parentId"] is None
    assert reply["parentId"] == user["id"] and reply["content"] == said and reply["done"]
    assert reply["followUps"] == ANSWER["follow_ups"]
    assert reply["output"] == final["output"] and reply["meta"] == {"task_id": body["id"]}


async def test_the_next_turn_in_the_chat_follows_the_answer(stack: Stack, ada: Account) -> None:
    socket = await connected(stack.gateway, ada.token)
    try:
        first = await send(stack, ada, app_body(socket.client.get_sid(), "hello"))
        chat_id = first.json()["chat_id"]
        await socket.wait_for(active_false(chat_id))
        answer_id = first.json()["task_ids"][0]
        socket.events.clear()
        body = app_body(socket.client.get_sid(), "and again", chat_id=chat_id,
                        parent_id=answer_id)
        second = await send(stack, ada, body)
        assert second.status_code == 200, second.text
        assert second.json()["chat_id"] == chat_id
        await socket.wait_for(active_false(chat_id))
    finally:
        await socket.close()
    heard = kinds(socket.of(chat_id))
    assert "chat:title" not in heard and "chat:tags" not in heard  # titled once, at first
    assert heard[:3] == ["chat:list", "chat:active", "response:completion"]
    assert heard[-1] == "chat:active" and "delta" in heard
    messages = await fetch(f"{stack.gateway}/api/v1/chats/{chat_id}/messages", ada)
    by_id = {m["id"]: m for m in messages}
    assert by_id[body["user_message"]["id"]]["parentId"] == answer_id
    assert by_id[body["id"]]["status"] == "done"


async def test_only_model_parameters_reach_the_provider(stack: Stack, ada: Account) -> None:
    """The app's own keys, top level or in `params`, never reach the provider; a strict one
    would refuse them."""
    socket = await connected(stack.gateway, ada.token)
    own = {"skill_ids": ["s"], "terminal_id": "t", "chat_variables": {"a": 1},
           "message_ids": [], "model_item": {"id": "gpt-fake"}, "variables": {"x": "y"}}
    try:
        body = app_body(socket.client.get_sid(), "hi", **own)
        body["params"] = {"temperature": 0.5, "function_calling": "native",
                          "stream_response": True, "custom_params": {"k": 1}}
        body["background_tasks"] = {}
        answer = await send(stack, ada, body)
        assert answer.status_code == 200, answer.text
        await socket.wait_for(active_false(answer.json()["chat_id"]))
    finally:
        await socket.close()
    sent = (await fetch(f"{stack.fakes['openai']}/stats"))["last_body"]
    assert sent["temperature"] == 0.5
    assert not (set(sent) & {*own, "function_calling", "stream_response", "custom_params",
                             "session_id", "background_tasks", "user_message", "folder_id"})
    # The SSE path (scripts, the SDK) drops Open WebUI's own keys as well.
    async with httpx.AsyncClient(base_url=stack.gateway, headers=ada.headers,
                                 timeout=60) as http:
        plain = await http.post("/api/chat/completions", json={
            "model": "gpt-fake", "stream": False, "temperature": 0.25, **own,
            "folder_id": "f", "user_message": {"id": "u", "content": "x"},
            "messages": [{"role": "user", "content": "hello"}]})
    assert plain.status_code == 200, plain.text
    sent = (await fetch(f"{stack.fakes['openai']}/stats"))["last_body"]
    assert sent["temperature"] == 0.25
    assert not (set(sent) & {*own, "folder_id", "user_message"})


async def test_a_turn_on_one_replica_reaches_a_socket_on_another(
        stack: Stack, ada: Account, second_chat: str) -> None:
    socket = await connected(second_chat, ada.token)
    try:
        answer = await send(stack, ada, app_body(socket.client.get_sid(), "across replicas"))
        assert answer.status_code == 200, answer.text
        chat_id = answer.json()["chat_id"]
        await socket.wait_for(active_false(chat_id))
    finally:
        await socket.close()
    heard = kinds(socket.of(chat_id))
    assert heard[:2] == ["chat:list", "chat:active"] and "delta" in heard


async def _mid_answer(stack: Stack, account: Account, socket: Socket
                      ) -> tuple[str, str, dict[str, Any]]:
    """A slow answer begun and heard up to its first token: (chat id, task id, body)."""
    body = app_body(socket.client.get_sid(), "a long one", model="gpt-fake-slow")
    body["params"] = {"max_tokens": 200}
    answer = await send(stack, account, body)
    assert answer.status_code == 200, answer.text
    chat_id, task_id = answer.json()["chat_id"], answer.json()["task_ids"][0]
    await socket.wait_for(lambda events: "delta" in kinds(socket.of(chat_id)))
    return chat_id, task_id, body


@pytest.mark.parametrize("how", ["task", "chat"])
async def test_a_reloaded_page_finds_the_turn_and_stop_keeps_what_was_written(
        stack: Stack, ada: Account, how: str) -> None:
    socket = await connected(stack.gateway, ada.token)
    try:
        chat_id, task_id, _ = await _mid_answer(stack, ada, socket)
        # The reloaded page: a new socket joins the chat and hears the output so far at once.
        reloaded = await connected(stack.gateway, ada.token)
        try:
            joined = await reloaded.call("events:chat", {"chat_id": chat_id,
                                                         "data": {"type": "join"}})
            caught = await reloaded.wait_for(lambda events: any(
                e["data"]["type"] == "chat:completion" and "output" in e["data"]["data"]
                for e in events))
        finally:
            await reloaded.close()
        assert joined is True
        so_far = next(e for e in caught if e["data"]["type"] == "chat:completion")
        assert so_far["message_id"] == task_id
        text = so_far["data"]["data"]["output"][0]["content"][0]["text"]
        assert text.startswith("word0 ")
        async with httpx.AsyncClient(base_url=stack.gateway, headers=ada.headers,
                                     timeout=60) as http:
            running = await http.get(f"/api/tasks/chat/{chat_id}")
            assert running.status_code == 200 and running.json() == {"task_ids": [task_id]}
            assert compare(running.json(), samples()["GET /api/tasks/chat/{id}"], None) == []
            url = f"/api/tasks/stop/{task_id}" if how == "task" else \
                f"/api/tasks/chat/{chat_id}/stop"
            stopped = await http.post(url)
            assert stopped.status_code == 200 and stopped.json()["status"] is True
            await socket.wait_for(active_false(chat_id))
            after = await http.get(f"/api/tasks/chat/{chat_id}")
            assert after.json() == {"task_ids": []}
            message = (await http.get(f"/api/v1/chats/{chat_id}/messages")).json()[-1]
            again = await http.post(f"/api/tasks/stop/{task_id}")
    finally:
        await socket.close()
    assert message["id"] == task_id and message["status"] == "stopped"
    assert message["content"].startswith("word0 ") and len(message["content"]) < 200 * 6
    final = [e["data"]["data"] for e in socket.of(chat_id)
             if e["data"]["type"] == "chat:completion" and e["data"]["data"].get("done")]
    assert final and final[-1]["output"][0]["status"] == "incomplete"
    assert again.status_code == 404  # ended: nothing to stop


async def test_bad_input_is_refused_and_nothing_is_stored(stack: Stack, ada: Account,
                                                          bea: Account) -> None:
    socket = await connected(stack.gateway, ada.token)
    sid = socket.client.get_sid()
    async with httpx.AsyncClient(base_url=stack.gateway, headers=ada.headers,
                                 timeout=60) as http:
        chats_before = (await http.get("/api/v1/chats/?page=1")).json()
        theirs = await send(stack, bea, app_body(sid, "bea's"))
        their_chat = theirs.json()["chat_id"]
        mine = await send(stack, ada, app_body(sid, "mine", model="gpt-fake"))
        my_chat, my_answer = mine.json()["chat_id"], mine.json()["task_ids"][0]
        await socket.wait_for(active_false(my_chat))
        cases = {
            "another user's chat": (app_body(sid, "x", chat_id=their_chat), 404),
            "a parent in another chat": (app_body(sid, "x", chat_id=my_chat,
                                                  parent_id=theirs.json()["task_ids"][0]), 400),
            "a parent for a new chat": (app_body(sid, "x", parent_id=my_answer), 400),
            "an unknown model": (app_body(sid, "x", model="no-such-model"), 404),
            "an unknown model in a chat": (app_body(sid, "x", model="no-such-model",
                                                    chat_id=my_chat, parent_id=my_answer), 404),
            "no user message": ({**app_body(sid, "x"), "user_message": None}, 422),
            "a user message without content": (
                {**app_body(sid, "x"), "user_message": {"id": "u1"}}, 422),
            "a taken message id": ({**app_body(sid, "x", chat_id=my_chat, parent_id=my_answer),
                                    "id": my_answer}, 409),
            "an oversized message": (app_body(sid, "x" * 600_000), 413),
            "a bad chat id": (app_body(sid, "x", chat_id=7), 422),
            "a bad folder": (app_body(sid, "x", folder_id="no-such-folder"), 404),
        }
        for case, (body, status) in cases.items():
            answer = await http.post("/api/chat/completions", json=body)
            assert answer.status_code == status, (case, answer.text)
            assert isinstance(answer.json()["detail"], str), case
        malformed = await http.post("/api/chat/completions", content=b"{not json",
                                    headers={"Content-Type": "application/json"})
        assert malformed.status_code == 400  # the gateway's refusal of a body that is not JSON
        await asyncio.sleep(0.5)  # a refused turn's last write, if any, has landed
        chats_after = (await http.get("/api/v1/chats/?page=1")).json()
        stranger = await http.get(f"/api/tasks/chat/{their_chat}")
        stop_theirs = await http.post(f"/api/tasks/chat/{their_chat}/stop")
        unknown_task = await http.post(f"/api/tasks/stop/{uuid.uuid4()}")
    await socket.close()
    assert {c["id"] for c in chats_after} - {c["id"] for c in chats_before} == {my_chat}
    assert stranger.status_code == 404 and stop_theirs.status_code == 404
    assert unknown_task.status_code == 404


def _heard_of(socket: Socket, chat_id: str, kind: str) -> list[Any]:
    return [e["data"]["data"] for e in socket.of(chat_id) if e["data"]["type"] == kind]


async def test_retrieval_and_tools_are_heard_as_status_and_sources(stack: Stack,
                                                                   ada: Account) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, headers=ada.headers,
                                 timeout=60) as http:
        knowledge = (await http.post("/api/v1/knowledge/create", json={
            "name": "Reactors", "description": "realtime test"})).json()
        text = b"# Zephyr-9\n\nThe Zephyr-9 reactor is cooled by molten salt.\n"
        file = (await http.post("/api/v1/files/", files={"file": ("zephyr.md", text)})).json()
        added = await http.post(f"/api/v1/knowledge/{knowledge['id']}/file/add",
                                json={"file_id": file["id"]})
        assert added.status_code == 200, added.text
    socket = await connected(stack.gateway, ada.token)
    try:
        sid = socket.client.get_sid()
        searched = await send(stack, ada, app_body(
            sid, "How is the Zephyr-9 cooled?",
            files=[{"type": "collection", "id": knowledge["id"]}]))
        tooled = await send(stack, ada, {
            **app_body(sid, 'call: calculator {"expression": "6 * 7"}', model=AGENT),
            "tool_ids": ["calculator"]})
        for answer in (searched, tooled):
            assert answer.status_code == 200, answer.text
            await socket.wait_for(active_false(answer.json()["chat_id"]))
    finally:
        await socket.close()
    chat_id = searched.json()["chat_id"]
    statuses = _heard_of(socket, chat_id, "status")
    assert statuses[0]["action"] == "knowledge_search" and statuses[-1]["done"]
    sources = [d["sources"] for d in _heard_of(socket, chat_id, "chat:completion")
               if "sources" in d]
    assert sources and sources[0][0]["source"]["name"] == "zephyr.md"
    chat_id = tooled.json()["chat_id"]
    statuses = _heard_of(socket, chat_id, "status")
    assert [(s["name"], s["done"]) for s in statuses] == [("calculator", False),
                                                          ("calculator", True)]
    final = [d for d in _heard_of(socket, chat_id, "chat:completion") if d.get("done")]
    assert final[0]["output"][0]["content"][0]["text"] == "Tool results: 42"


async def test_a_temporary_chat_is_heard_and_not_stored(stack: Stack, ada: Account) -> None:
    """`chat_id` `local:...`: the app keeps the chat and sends its messages."""
    async with httpx.AsyncClient(base_url=stack.gateway, headers=ada.headers,
                                 timeout=60) as http:
        before = (await http.get("/api/v1/chats/?page=1")).json()
    socket = await connected(stack.gateway, ada.token)
    try:
        chat_id = f"local:{socket.client.get_sid()}"
        body = app_body(socket.client.get_sid(), "reply: kept by the app", model=AGENT,
                        chat_id=chat_id)
        body["messages"] = [{"role": "user", "content": "reply: kept by the app"}]
        answer = await send(stack, ada, body)
        assert answer.status_code == 200 and answer.json()["chat_id"] == chat_id, answer.text
        await socket.wait_for(active_false(chat_id))
    finally:
        await socket.close()
    final = [d for d in _heard_of(socket, chat_id, "chat:completion") if d.get("done")]
    assert final[0]["output"][0]["content"][0]["text"] == "kept by the app"
    async with httpx.AsyncClient(base_url=stack.gateway, headers=ada.headers,
                                 timeout=60) as http:
        assert (await http.get("/api/v1/chats/?page=1")).json() == before


async def test_regenerate_answers_the_same_user_message_again(stack: Stack,
                                                              ada: Account) -> None:
    """The app's regenerate sends the stored user message again with a new answer id."""
    socket = await connected(stack.gateway, ada.token)
    try:
        first = app_body(socket.client.get_sid(), "once more")
        answer = await send(stack, ada, first)
        chat_id = answer.json()["chat_id"]
        await socket.wait_for(active_false(chat_id))
        again = {**first, "chat_id": chat_id, "id": str(uuid.uuid4())}
        regenerated = await send(stack, ada, again)
        assert regenerated.status_code == 200, regenerated.text
        await socket.wait_for(lambda events: sum(
            e["chat_id"] == chat_id and e["data"]["type"] == "chat:active"
            and not e["data"]["data"]["active"] for e in events) == 2)
    finally:
        await socket.close()
    messages = await fetch(f"{stack.gateway}/api/v1/chats/{chat_id}/messages", ada)
    by_id = {m["id"]: m for m in messages}
    user_id = first["user_message"]["id"]
    assert len(messages) == 3
    assert by_id[first["id"]]["parentId"] == by_id[again["id"]]["parentId"] == user_id
    assert by_id[again["id"]]["status"] == "done"


async def test_a_turn_on_another_replica_is_listed_and_stopped_from_here(
        stack: Stack, ada: Account, second_chat: str) -> None:
    """The turns table is shared: a reload served by another replica lists the turn; a stop
    that lands where the turn does not run reaches it through Redis (issue 21: no 409)."""
    socket = await connected(stack.gateway, ada.token)
    try:
        body = app_body(socket.client.get_sid(), "elsewhere", model="gpt-fake-slow")
        body["params"] = {"max_tokens": 200}
        async with httpx.AsyncClient(base_url=second_chat, headers=ada.headers,
                                     timeout=60) as replica:
            answer = await replica.post("/api/chat/completions", json=body)
            assert answer.status_code == 200, answer.text
            chat_id, task_id = answer.json()["chat_id"], answer.json()["task_ids"][0]
            await socket.wait_for(lambda events: "delta" in kinds(socket.of(chat_id)))
            async with httpx.AsyncClient(base_url=stack.gateway, headers=ada.headers,
                                         timeout=60) as http:
                listed = await http.get(f"/api/tasks/chat/{chat_id}")
                elsewhere = await http.post(f"/api/tasks/stop/{task_id}")
            await socket.wait_for(active_false(chat_id))
            stored = (await replica.get(f"/api/v1/chats/{chat_id}/messages")).json()
    finally:
        await socket.close()
    assert listed.json() == {"task_ids": [task_id]}
    assert elsewhere.status_code == 200, elsewhere.text
    assert {m["id"]: m for m in stored}[task_id]["status"] == "stopped"
