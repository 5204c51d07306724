"""Bad input: a clear JSON error with the right status that names what is wrong; never a 500."""

from __future__ import annotations

import httpx

from tests.chat.conftest import create, ok, sample_chat


def _detail(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["detail"])


def test_sizes(alice: httpx.Client) -> None:
    long_title = alice.post("/api/v1/chats/new", json={"chat": {"title": "t" * 1001}})
    assert "chat.title" in _detail(long_title, 422)
    chat = sample_chat()
    chat["history"]["messages"]["a1"]["content"] = "x" * 500_001
    big = alice.post("/api/v1/chats/new", json={"chat": chat})
    assert "content" in _detail(big, 413) and "a1" in _detail(big, 413)
    made = create(alice)["id"]
    append = alice.post(f"/api/v1/chats/{made}/messages",
                        json={"role": "user", "content": "y" * 500_001})
    assert "content" in _detail(append, 413)
    edit = alice.post(f"/api/v1/chats/{made}/messages/u1", json={"content": "z" * 500_001})
    assert "content" in _detail(edit, 413)
    tag = alice.post(f"/api/v1/chats/{made}/tags", json={"name": "t" * 101})
    assert "name" in _detail(tag, 422)
    folder = alice.post("/api/v1/folders/", json={"name": "f" * 256})
    assert "name" in _detail(folder, 422)
    long_id = alice.post(f"/api/v1/chats/{made}/messages",
                         json={"id": "i" * 129, "role": "user", "content": "x"})
    assert "id" in _detail(long_id, 422)


def test_tree_errors(alice: httpx.Client) -> None:
    made = create(alice)
    history = made["chat"]["history"]
    unknown = {**history, "messages": {**history["messages"], "n": {
        "id": "n", "parentId": "ghost", "role": "user", "content": "?"}}}
    response = alice.post(f"/api/v1/chats/{made['id']}", json={"chat": {"history": unknown}})
    assert "ghost" in _detail(response, 400)
    cycle = {**history, "messages": {**history["messages"],
                                     "u1": {**history["messages"]["u1"], "parentId": "a2"}}}
    response = alice.post(f"/api/v1/chats/{made['id']}", json={"chat": {"history": cycle}})
    assert "cycle" in _detail(response, 400)
    self_parent = {"messages": {"s": {"id": "s", "parentId": "s", "role": "user"}}}
    response = alice.post("/api/v1/chats/new", json={"chat": {"history": self_parent}})
    assert "cycle" in _detail(response, 400)
    current = {**history, "currentId": "nowhere"}
    response = alice.post(f"/api/v1/chats/{made['id']}", json={"chat": {"history": current}})
    assert "currentId" in _detail(response, 400)
    mismatch = {"messages": {"k": {"id": "other", "role": "user"}}}
    response = alice.post("/api/v1/chats/new", json={"chat": {"history": mismatch}})
    assert "k" in _detail(response, 422)
    # Nothing of the refused updates was stored.
    assert ok(alice.get(f"/api/v1/chats/{made['id']}"))["chat"]["history"] == history


def test_nothing_a_client_sends_gives_a_500(alice: httpx.Client) -> None:
    made = create(alice)["id"]
    bad_bodies = [None, [], "text", 5, {"chat": None}, {"chat": []}, {"chat": "x"},
                  {"chat": {"history": "x"}}, {"chat": {"history": {"messages": []}}},
                  {"chat": {"history": {"messages": {"a": None}}}},
                  {"chat": {"history": {"messages": {"a": {"id": "a"}}}}},
                  {"chat": {"history": {"messages": {"a": {"id": "a", "role": 7}}}}},
                  {"chat": {"history": {"messages": {}, "currentId": 5}}},
                  {"chat": {"messages": "x"}}, {"chat": {"messages": [1]}},
                  {"chat": {}, "variables": "x"}, {"chat": {}, "folder_id": 5},
                  {"chat": {"history": {"messages": {"a": {"id": "a", "role": "user",
                                                           "parentId": 3}}}}},
                  {"chat": {"history": {"messages": {"a": {"id": "a", "role": "user",
                                                           "timestamp": 2**70}}}}}]
    paths = ["/api/v1/chats/new", f"/api/v1/chats/{made}", "/api/v1/chats/import",
             f"/api/v1/chats/{made}/messages", f"/api/v1/chats/{made}/tags",
             "/api/v1/chats/tags", "/api/v1/folders/", "/api/v1/chats/preferences",
             "/api/v1/users/user/settings/update", f"/api/v1/chats/{made}/clone",
             f"/api/v1/chats/{made}/folder"]
    for path in paths:
        for body in bad_bodies:
            response = alice.post(path, json=body)
            assert response.status_code < 500, (path, body, response.text)
            assert response.status_code < 400 or response.json()["detail"]
    for query in ({"page": 0}, {"page": "x"}, {"sort_by": "nope"}, {"sort_dir": "up"}):
        assert alice.get("/api/v1/chats/", params=query).status_code == 422
    assert alice.get("/api/v1/chats/search").status_code == 422
    assert alice.get("/api/v1/chats/search", params={"text": "x" * 501}).status_code == 422
    assert alice.get(f"/api/v1/chats/{made}/messages",
                     params={"path": "sideways"}).status_code == 422
    assert alice.get("/api/v1/chats/search", params={"text": "\"'*:()-^ NEAR"}
                     ).status_code == 200
