"""Memories (`/api/v1/memories`) on the real stack: the rows in the chat service, their vectors
in the retrieval service (the user's memory collection, embedded by the stand-in provider), and a
turn that gives the model the user's memories when the memory setting is on."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.chat.conftest import ok
from tests.chat.test_prompts import eventually
from tests.conftest import bearer, signup
from tests.support.fullstack import FullStack, full_stack

ECHO = "gpt-fake-echo"  # answers with the request it got, as JSON


@pytest.fixture(scope="module")
def memory_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullStack]:
    root = tmp_path_factory.mktemp("memories")
    with full_stack(secrets.token_urlsafe(32), root / "data", root / "logs") as stack:
        stack.env["ADMIN_TOKEN"] = str(signup(stack.gateway)["token"])  # the first: the admin
        yield stack


def _client(stack: FullStack) -> httpx.Client:
    token = signup(stack.gateway)["token"]
    return httpx.Client(base_url=stack.gateway, headers=bearer(token), timeout=60)


@pytest.fixture
def user(memory_stack: FullStack) -> Iterator[httpx.Client]:
    with _client(memory_stack) as client:
        yield client


@pytest.fixture
def other(memory_stack: FullStack) -> Iterator[httpx.Client]:
    with _client(memory_stack) as client:
        yield client


def add(client: httpx.Client, content: str, **fields: Any) -> dict[str, Any]:
    return ok(client.post("/api/v1/memories/add", json={"content": content, **fields}))


def sent_to_model(client: httpx.Client, content: str, **features: Any) -> list[dict[str, Any]]:
    chat = ok(client.post("/api/v1/chats/new", json={"chat": {"title": "t"}}))
    answer = ok(client.post(f"/api/v1/chats/{chat['id']}/completions", json={
        "model": ECHO, "content": content, "stream": False, "features": features}))
    return json.loads(answer["content"])["messages"]


def test_add_edit_list_and_delete(user) -> None:
    made = add(user, "  Likes green tea  ", path="/food//drinks/")
    assert made["content"] == "Likes green tea" and made["path"] == "food/drinks"
    assert made["type"] == "context" and made["meta"] == {"created_by": "manual"}
    edited = ok(user.post(f"/api/v1/memories/{made['id']}/update",
                          json={"content": "Likes jasmine tea", "type": "user"}))
    assert edited["content"] == "Likes jasmine tea" and edited["type"] == "user"
    assert edited["path"] == "food/drinks"
    assert [m["id"] for m in ok(user.get("/api/v1/memories/"))] == [made["id"]]
    assert ok(user.delete(f"/api/v1/memories/{made['id']}")) is True
    assert ok(user.get("/api/v1/memories/")) == []


def test_query_finds_the_memory_and_forgets_deleted_ones(user) -> None:
    assert user.post("/api/v1/memories/query", json={"content": "x"}).status_code == 404
    tea = add(user, "Drinks jasmine tea every morning")
    bike = add(user, "Rides a red bicycle to work")
    found = ok(user.post("/api/v1/memories/query",
                         json={"content": "Drinks jasmine tea every morning", "k": 1}))
    assert found["ids"] == [[tea["id"]]] and found["documents"][0][0] == tea["content"]
    assert found["distances"][0][0] > 0.99 and found["metadatas"][0][0]["type"] == "context"
    both = ok(user.post("/api/v1/memories/query", json={"content": "morning", "k": 5}))
    assert set(both["ids"][0]) == {tea["id"], bike["id"]}
    ok(user.delete(f"/api/v1/memories/{tea['id']}"))
    after = ok(user.post("/api/v1/memories/query", json={"content": tea["content"], "k": 5}))
    assert after["ids"] == [[bike["id"]]]
    assert ok(user.post("/api/v1/memories/reset")) is True
    assert ok(user.post("/api/v1/memories/reindex"))["total_memories"] == 1


def _vectors(client: httpx.Client, text: str) -> list[str]:
    """The memory ids whose vectors the retrieval service holds nearest `text` (the memory
    collection is the caller's own: their token reaches it), none once it is gone."""
    me = ok(client.get("/api/v1/auths/"))
    found = client.post("/api/v1/retrieval/query/collection", json={
        "collection_names": [f"user-memory-{me['id']}"], "query": text, "k": 10, "r": 0})
    if found.status_code == 404:
        return []
    return [meta["name"] for meta in ok(found)["metadatas"][0]]


def test_a_deleted_memory_leaves_its_vectors_behind_nowhere(user, other) -> None:
    kept = add(user, "Keeps bees in the garden")
    gone = add(user, "Collects old maps of the coast")
    tool_made = add(user, "Bakes rye bread on Fridays")
    assert set(_vectors(user, "maps")) == {kept["id"], gone["id"], tool_made["id"]}
    ok(user.delete(f"/api/v1/memories/{gone['id']}"))
    ok(user.post("/api/v1/memories/update", json={"operations": [
        {"action": "remove", "id": tool_made["id"]}]}))
    assert _vectors(user, gone["content"]) == [kept["id"]]
    found = ok(user.post("/api/v1/memories/query", json={"content": gone["content"], "k": 5}))
    assert found["ids"] == [[kept["id"]]]
    system = "".join(m["content"] for m in sent_to_model(user, gone["content"], memory=True)
                     if m["role"] == "system")
    assert "maps" not in system and "rye" not in system and "bees" in system
    # An edit replaces the vectors: the old text is no longer found.
    ok(user.post(f"/api/v1/memories/{kept['id']}/update", json={"content": "Keeps goats"}))
    assert len(_vectors(user, "bees")) == 1
    # The delete route reaches only the caller's own collection.
    me = ok(user.get("/api/v1/auths/"))
    refused = other.post("/api/v1/retrieval/text/delete", json={
        "collection_name": f"user-memory-{me['id']}"})
    assert refused.status_code == 404
    assert _vectors(user, "goats") == [kept["id"]]
    ok(user.delete("/api/v1/memories/delete/user"))
    assert _vectors(user, "goats") == []


def test_delete_all(user) -> None:
    add(user, "one")
    add(user, "two")
    assert ok(user.delete("/api/v1/memories/delete/user")) is True
    assert ok(user.get("/api/v1/memories/")) == []
    assert user.post("/api/v1/memories/query", json={"content": "one"}).status_code == 404


def test_a_turn_gets_the_memories_when_memory_is_on(user) -> None:
    add(user, "Name is Ada", type="user")
    add(user, "Allergic to peanuts", path="health")
    messages = sent_to_model(user, "Allergic to peanuts", memory=True)
    system = [m["content"] for m in messages if m["role"] == "system"]
    assert len(system) == 1 and system[0].startswith("<memory_context>")
    assert "[User Memory]\n- Name is Ada" in system[0]
    assert "[Relevant Context]\n- health: Allergic to peanuts" in system[0]
    assert messages[-1] == {"role": "user", "content": "Allergic to peanuts"}
    # Memory off (the setting unset): no memories.
    assert all(m["role"] != "system" for m in sent_to_model(user, "Allergic to peanuts"))


def test_bad_input_stores_nothing(user) -> None:
    assert user.post("/api/v1/memories/add", json={"content": "   "}).status_code == 400
    big = user.post("/api/v1/memories/add", json={"content": "x" * 10_001})
    assert big.status_code == 413 and "10,000" in big.json()["detail"]
    assert user.post("/api/v1/memories/add", json={"content": "a", "path": "a/../b"}
                     ).status_code == 400
    assert user.post("/api/v1/memories/add", json={"content": "a", "type": "x"}
                     ).status_code == 422
    assert user.post("/api/v1/memories/add", json={}).status_code == 422
    assert ok(user.get("/api/v1/memories/")) == []
    made = add(user, "kept")
    nothing = user.post(f"/api/v1/memories/{made['id']}/update", json={})
    assert nothing.status_code == 400
    grown = user.post(f"/api/v1/memories/{made['id']}/update", json={"content": "y" * 10_001})
    assert grown.status_code == 413
    assert ok(user.get("/api/v1/memories/"))[0]["content"] == "kept"
    # One bad operation of several: none is applied.
    refused = user.post("/api/v1/memories/update", json={"operations": [
        {"action": "add", "content": "new"}, {"action": "remove", "id": "nope"}]})
    assert refused.status_code == 404
    assert [m["content"] for m in ok(user.get("/api/v1/memories/"))] == ["kept"]


def test_operations_search_and_paths(user) -> None:
    done = ok(user.post("/api/v1/memories/update", json={"operations": [
        {"action": "add", "content": "Team lead of owui", "path": "work/projects"},
        {"action": "add", "content": "Works remotely", "path": "work"},
        {"action": "add", "content": "Has a cat", "type": "user"}]}))
    assert [r["status"] for r in done] == ["created"] * 3
    lead = done[0]["id"]
    moved = ok(user.post("/api/v1/memories/update", json={"operations": [
        {"action": "move", "id": lead, "path": "work/owui"}]}))
    assert moved[0]["memory"]["path"] == "work/owui"
    found = ok(user.post("/api/v1/memories/search", json={"path": "work"}))
    assert [m["content"] for m in found] == ["Works remotely", "Team lead of owui"]
    assert [m["content"] for m in ok(user.post("/api/v1/memories/search",
                                               json={"query": "CAT", "type": "user"}))] \
        == ["Has a cat"]
    paths = ok(user.post("/api/v1/memories/paths", json={}))
    assert paths["count"] == 3
    work = next(p for p in paths["paths"] if p["path"] == "work")
    assert work["children"] == ["work/owui"] and work["count"] == 1
    read = ok(user.post("/api/v1/memories/path", json={"path": "work/owui"}))
    assert read["parents"] == ["work"] and [m["path"] for m in read["memories"]] == [
        "work/owui", "work"]
    removed = ok(user.post("/api/v1/memories/update", json={"operations": [
        {"action": "remove", "id": lead}]}))
    assert removed == [{"action": "remove", "status": "deleted", "id": lead}]


def test_another_users_memory_is_404_and_never_used(user, other) -> None:
    secret = add(user, "The safe code is 4711")
    for method, path, body in [
            ("POST", f"/api/v1/memories/{secret['id']}/update", {"content": "mine"}),
            ("DELETE", f"/api/v1/memories/{secret['id']}", None)]:
        answer = other.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    refused = other.post("/api/v1/memories/update", json={"operations": [
        {"action": "remove", "id": secret["id"]}]})
    assert refused.status_code == 404
    assert ok(other.get("/api/v1/memories/")) == []
    add(other, "Plays chess")
    found = ok(other.post("/api/v1/memories/query", json={"content": secret["content"],
                                                           "k": 5}))
    assert secret["id"] not in found["ids"][0]
    system = [m["content"] for m in sent_to_model(other, secret["content"], memory=True)
              if m["role"] == "system"]
    assert "4711" not in "".join(system)
    assert ok(other.delete("/api/v1/memories/delete/user")) is True
    assert [m["id"] for m in ok(user.get("/api/v1/memories/"))] == [secret["id"]]


def test_memories_need_the_permission(memory_stack, user) -> None:
    add(user, "Prefers short answers", type="user")
    with httpx.Client(base_url=memory_stack.gateway, timeout=60,
                      headers=bearer(memory_stack.env["ADMIN_TOKEN"])) as admin:
        defaults = ok(admin.get("/api/v1/users/default/permissions"))
        off = {**defaults, "features": {**defaults["features"], "memories": False}}
        ok(admin.post("/api/v1/users/default/permissions", json=off))
        try:
            eventually(lambda: user.get("/api/v1/memories/").status_code == 403)
            refused = user.post("/api/v1/memories/add", json={"content": "x"})
            assert refused.status_code == 403 and "features.memories" in refused.text
            # The app's memory flag alone does not give a turn the memories.
            assert all(m["role"] != "system"
                       for m in sent_to_model(user, "Prefers short answers", memory=True))
            assert admin.get("/api/v1/memories/").status_code == 200
        finally:
            ok(admin.post("/api/v1/users/default/permissions", json=defaults))
    eventually(lambda: user.get("/api/v1/memories/").status_code == 200)


def test_with_retrieval_down_a_turn_answers_with_the_users_memories(memory_stack, user) -> None:
    """Last in this module: it stops the stack's retrieval service."""
    add(user, "Lives by the sea", type="user")
    add(user, "Sails on Sundays")
    memory_stack.services["retrieval"].stop()
    system = [m["content"] for m in sent_to_model(user, "Sails on Sundays", memory=True)
              if m["role"] == "system"]
    assert len(system) == 1 and "- Lives by the sea" in system[0]
    assert "Sundays" not in system[0]  # the relevant ones need retrieval
    # Adding one now stores nothing: its vectors cannot be written.
    failed = user.post("/api/v1/memories/add", json={"content": "Has a boat"})
    assert failed.status_code in (502, 503), failed.text
    assert {m["content"] for m in ok(user.get("/api/v1/memories/"))} == {
        "Lives by the sea", "Sails on Sundays"}
