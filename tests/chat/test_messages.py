"""Messages as rows: append under a parent, the active branch, edits, deletes, concurrency."""

from __future__ import annotations

import asyncio

import httpx

from tests.chat.conftest import create, ok, sample_chat


def _append(client: httpx.Client, chat_id: str, **message: object) -> httpx.Response:
    return client.post(f"/api/v1/chats/{chat_id}/messages", json=message)


def test_append_under_current_then_under_a_chosen_parent(alice: httpx.Client) -> None:
    chat = create(alice)["id"]
    answer = ok(_append(alice, chat, role="user", content="and then?", files=[{"id": "f"}]))
    assert answer["parentId"] == "a2" and answer["childrenIds"] == []
    assert answer["files"] == [{"id": "f"}] and isinstance(answer["timestamp"], int)
    branch = ok(alice.get(f"/api/v1/chats/{chat}/messages", params={"path": "current"}))
    assert [m["id"] for m in branch] == ["u1", "a1", "u2", "a2", answer["id"]]
    assert branch[3]["childrenIds"] == [answer["id"]]
    assert branch[1]["childrenIds"] == ["u2", "u3"]
    # A regeneration: a sibling of a2, chosen by its parent, with an id of the client's.
    sibling = ok(_append(alice, chat, id="a9", parentId="u2", role="assistant",
                         content="again", model="llama3:8b", make_current=False))
    assert sibling["id"] == "a9" and sibling["model"] == "llama3:8b"
    full = ok(alice.get(f"/api/v1/chats/{chat}"))
    assert full["chat"]["history"]["messages"]["u2"]["childrenIds"] == ["a2", "a3", "a9"]
    assert full["current_message_id"] == answer["id"]
    root = ok(_append(alice, chat, parentId=None, role="user", content="a new root"))
    assert root["parentId"] is None
    assert [m["id"] for m in ok(alice.get(f"/api/v1/chats/{chat}/messages",
                                          params={"path": "current"}))] == [root["id"]]
    assert len(ok(alice.get(f"/api/v1/chats/{chat}/messages"))) == 9


def test_append_refuses_unknown_or_foreign_parent_and_taken_id(alice: httpx.Client) -> None:
    chat, other = create(alice)["id"], create(alice)["id"]
    unknown = _append(alice, chat, parentId="nope", role="user", content="x")
    assert unknown.status_code == 400 and "nope" in unknown.json()["detail"]
    # u1 exists, but in the other chat: the parent must be of this chat.
    ok(_append(alice, other, id="only-there", role="user", content="x"))
    foreign = _append(alice, chat, parentId="only-there", role="user", content="x")
    assert foreign.status_code == 400 and "only-there" in foreign.json()["detail"]
    taken = _append(alice, chat, id="u1", role="user", content="x")
    assert taken.status_code == 409 and "u1" in taken.json()["detail"]
    assert _append(alice, "no-such-chat", role="user", content="x").status_code == 404
    assert _append(alice, chat, content="no role").status_code == 422


def test_long_chat_branch_is_the_path_to_current(alice: httpx.Client) -> None:
    messages = {}
    parent = None
    for i in range(500):
        messages[f"m{i}"] = {"id": f"m{i}", "parentId": parent, "childrenIds": [],
                             "role": "user" if i % 2 == 0 else "assistant",
                             "content": f"message {i}"}
        if parent:
            messages[parent]["childrenIds"].append(f"m{i}")
        parent = f"m{i}"
    # A side branch at m250 that is not current.
    messages["side"] = {"id": "side", "parentId": "m250", "childrenIds": [], "role": "user",
                        "content": "side"}
    messages["m250"]["childrenIds"].append("side")
    chat = create(alice, {"title": "Long", "history": {"messages": messages,
                                                       "currentId": "m499"}})["id"]
    branch = ok(alice.get(f"/api/v1/chats/{chat}/messages", params={"path": "current"}))
    assert [m["id"] for m in branch] == [f"m{i}" for i in range(500)]
    assert branch[250]["childrenIds"] == ["m251", "side"]
    assert branch[-1]["childrenIds"] == []


def test_update_and_delete_a_message(alice: httpx.Client) -> None:
    chat = create(alice)["id"]
    changed = ok(alice.post(f"/api/v1/chats/{chat}/messages/a1", json={"content": "better"}))
    assert changed["chat"]["history"]["messages"]["a1"]["content"] == "better"
    assert alice.post(f"/api/v1/chats/{chat}/messages/zz",
                      json={"content": "x"}).status_code == 404
    # Deleting u2 takes its replies; the current message is then, as Open WebUI makes it, the
    # one reached from u2's parent down each last child: u3.
    after = ok(alice.delete(f"/api/v1/chats/{chat}/messages/u2"))
    assert set(after["chat"]["history"]["messages"]) == {"u1", "a1", "u3"}
    assert after["chat"]["history"]["messages"]["a1"]["childrenIds"] == ["u3"]
    assert after["current_message_id"] == "u3"
    assert alice.delete(f"/api/v1/chats/{chat}/messages/u2").status_code == 404


async def test_concurrent_appends_lose_nothing(backend) -> None:
    with backend.alice.client() as alice:
        chat = create(alice, sample_chat("Busy"))["id"]
    clients = [backend.alice.async_client() for _ in range(4)]
    try:
        answers = await asyncio.gather(*(
            clients[i % 4].post(f"/api/v1/chats/{chat}/messages",
                                json={"parentId": "a2", "role": "user", "content": f"n{i}"})
            for i in range(60)))
    finally:
        for client in clients:
            await client.aclose()
    assert [a.status_code for a in answers] == [200] * 60, [a.text for a in answers][:3]
    with backend.alice.client() as alice:
        full = ok(alice.get(f"/api/v1/chats/{chat}"))
    children = full["chat"]["history"]["messages"]["a2"]["childrenIds"]
    assert sorted(children) == sorted(a.json()["id"] for a in answers)
    assert len(full["chat"]["history"]["messages"]) == 66
    assert full["current_message_id"] in children


async def test_a_bad_append_among_concurrent_ones_fails_alone(backend) -> None:
    # On SQLite, appends waiting together share one transaction (group commit): each must
    # still succeed or fail on its own.
    with backend.alice.client() as alice:
        chat = create(alice, sample_chat("Mixed"))["id"]
    async with backend.alice.async_client() as client:
        answers = await asyncio.gather(*(
            client.post(f"/api/v1/chats/{chat}/messages",
                        json={"parentId": "nope" if i % 3 == 0 else "a2", "role": "user",
                              "content": f"m{i}"})
            for i in range(30)))
    statuses = [a.status_code for a in answers]
    assert statuses == [400 if i % 3 == 0 else 200 for i in range(30)], statuses
    with backend.alice.client() as alice:
        stored = ok(alice.get(f"/api/v1/chats/{chat}/messages"))
    assert sorted(m["content"] for m in stored if m["content"].startswith("m")) == sorted(
        f"m{i}" for i in range(30) if i % 3)
