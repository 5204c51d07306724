"""Notes (`/api/v1/notes`): the Notes page and the sidebar's pinned notes, as Open WebUI 0.12
serves them; sizes, paging and another user's notes."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.chat.conftest import ok
from tests.chat.test_prompts import eventually, set_defaults


def make(client: httpx.Client, title: str = "Groceries", text: str = "milk, eggs",
         **fields: Any) -> dict[str, Any]:
    body = {"title": title, "data": {"content": {"json": None, "html": f"<p>{text}</p>",
                                                 "md": text}}, **fields}
    return ok(client.post("/api/v1/notes/create", json=body))


def test_create_read_edit_and_list(fresh) -> None:
    before = time.time_ns()
    note = make(fresh, meta={"icon": "n"})
    assert note["created_at"] >= before and note["is_pinned"] is False  # nanoseconds
    read = ok(fresh.get(f"/api/v1/notes/{note['id']}"))
    assert read["write_access"] is True and read["data"]["content"]["md"] == "milk, eggs"
    edited = ok(fresh.post(f"/api/v1/notes/{note['id']}/update", json={
        "data": {"content": {"md": "milk, eggs, bread", "html": "", "json": None}},
        "meta": {"colour": "red"}}))
    assert edited["title"] == "Groceries" and edited["updated_at"] > note["updated_at"]
    assert edited["meta"] == {"icon": "n", "colour": "red"}  # merged, as Open WebUI
    assert edited["data"]["content"]["md"] == "milk, eggs, bread"
    retitled = ok(fresh.post(f"/api/v1/notes/{note['id']}/update", json={"title": "Shop"}))
    assert retitled["data"]["content"]["md"] == "milk, eggs, bread"
    listed = ok(fresh.get("/api/v1/notes/"))
    assert [(n["title"], n["user"]["id"]) for n in listed] == [("Shop", note["user_id"])]


def test_a_list_shows_the_start_of_the_text(fresh) -> None:
    make(fresh, "Long", "word " * 1000)
    item = ok(fresh.get("/api/v1/notes/"))[0]
    assert item["data"] == {"content": {"md": ("word " * 1000)[:1000]}}


def test_pin_and_unpin(fresh) -> None:
    one, two = make(fresh, "One"), make(fresh, "Two")
    assert ok(fresh.get("/api/v1/notes/pinned")) == []
    assert ok(fresh.post(f"/api/v1/notes/{one['id']}/pin"))["is_pinned"] is True
    assert ok(fresh.post(f"/api/v1/notes/{two['id']}/pin"))["is_pinned"] is True
    assert [n["title"] for n in ok(fresh.get("/api/v1/notes/pinned"))] == ["Two", "One"]
    assert ok(fresh.post(f"/api/v1/notes/{two['id']}/pin"))["is_pinned"] is False
    pinned = ok(fresh.get("/api/v1/notes/pinned"))
    assert [(n["title"], n["is_pinned"]) for n in pinned] == [("One", True)]
    assert ok(fresh.get(f"/api/v1/notes/{one['id']}"))["is_pinned"] is True


def test_search_words_order_and_paging(fresh) -> None:
    make(fresh, "To-do list", "call the bank")
    make(fresh, "Recipes", "bread and butter")
    make(fresh, "Trip", "to-do: passport")
    found = ok(fresh.get("/api/v1/notes/search", params={"query": "todo"}))
    assert {n["title"] for n in found["items"]} == {"To-do list", "Trip"}
    assert found["total"] == 2 and found["items"][0]["user"]["id"]
    both = ok(fresh.get("/api/v1/notes/search", params={"query": "bread butter"}))
    assert [n["title"] for n in both["items"]] == ["Recipes"]
    by_name = ok(fresh.get("/api/v1/notes/search", params={"order_by": "name",
                                                            "direction": "asc"}))
    assert [n["title"] for n in by_name["items"]] == ["Recipes", "To-do list", "Trip"]
    assert ok(fresh.get("/api/v1/notes/search", params={"page": 5})) == {"items": [],
                                                                        "total": 3}
    assert ok(fresh.get("/api/v1/notes/search", params={"view_option": "shared"}))["total"] == 0
    assert fresh.get("/api/v1/notes/search", params={"page": 0}).status_code == 422
    assert fresh.get("/api/v1/notes/", params={"page": -1}).status_code == 422


def test_paged_list(fresh) -> None:
    for number in range(61):
        ok(fresh.post("/api/v1/notes/create", json={"title": f"n{number}"}))
    assert len(ok(fresh.get("/api/v1/notes/", params={"page": 1}))) == 60
    assert len(ok(fresh.get("/api/v1/notes/", params={"page": 2}))) == 1
    assert len(ok(fresh.get("/api/v1/notes/"))) == 61


def test_too_large_and_bad_input_store_nothing(fresh) -> None:
    big = fresh.post("/api/v1/notes/create", json={
        "title": "Big", "data": {"content": {"md": "x" * (2 * 1024 * 1024)}}})
    assert big.status_code == 413 and "limit" in big.json()["detail"]
    assert ok(fresh.get("/api/v1/notes/")) == []
    note = make(fresh)
    grown = fresh.post(f"/api/v1/notes/{note['id']}/update", json={
        "data": {"content": {"md": "y" * (2 * 1024 * 1024)}}})
    assert grown.status_code == 413
    assert ok(fresh.get(f"/api/v1/notes/{note['id']}"))["data"]["content"]["md"] == "milk, eggs"
    assert fresh.post("/api/v1/notes/create", json={}).status_code == 422
    assert fresh.post("/api/v1/notes/create", json={"title": "t" * 1001}).status_code == 422
    assert fresh.post("/api/v1/notes/create", json={"title": ["x"]}).status_code == 422
    shared = fresh.post("/api/v1/notes/create", json={
        "title": "x", "access_grants": [{"principal_type": "user", "principal_id": "*",
                                         "permission": "read"}]})
    assert shared.status_code == 422
    assert len(ok(fresh.get("/api/v1/notes/"))) == 1
    # A malformed text (not a string) is kept as text, as Open WebUI's forms do.
    odd = ok(fresh.post("/api/v1/notes/create", json={"title": "odd",
                                                      "data": {"content": {"md": 5}}}))
    assert odd["data"]["content"]["md"] == "5"


def test_delete(fresh) -> None:
    note = make(fresh)
    ok(fresh.post(f"/api/v1/notes/{note['id']}/pin"))
    assert ok(fresh.delete(f"/api/v1/notes/{note['id']}/delete")) is True
    assert fresh.get(f"/api/v1/notes/{note['id']}").status_code == 404
    assert ok(fresh.get("/api/v1/notes/pinned")) == []


def test_another_users_note_is_404(alice, bob) -> None:
    note = make(alice, "Alice's", "secret")
    base = f"/api/v1/notes/{note['id']}"
    for method, path, body in [
            ("GET", base, None), ("POST", f"{base}/update", {"title": "mine"}),
            ("POST", f"{base}/pin", None),
            ("POST", f"{base}/access/update", {"access_grants": []}),
            ("DELETE", f"{base}/delete", None)]:
        answer = bob.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    assert note["id"] not in {n["id"] for n in ok(bob.get("/api/v1/notes/"))}
    found = ok(bob.get("/api/v1/notes/search", params={"query": "secret"}))
    assert note["id"] not in {n["id"] for n in found["items"]}
    assert ok(alice.get(base))["title"] == "Alice's"


def test_notes_need_the_permission(backend, fresh) -> None:
    note = make(fresh)
    set_defaults(backend, {"features": {"notes": False}})
    try:
        eventually(lambda: fresh.get("/api/v1/notes/").status_code == 403)
        for method, path in [("GET", "/api/v1/notes/pinned"), ("GET", "/api/v1/notes/search"),
                             ("GET", f"/api/v1/notes/{note['id']}"),
                             ("POST", f"/api/v1/notes/{note['id']}/pin")]:
            answer = fresh.request(method, path)
            assert answer.status_code == 403, (method, path, answer.text)
            assert "features.notes" in answer.json()["detail"]
        with backend.admin.client() as admin:
            assert admin.get("/api/v1/notes/").status_code == 200
    finally:
        set_defaults(backend, {"features": {"notes": True}})
    eventually(lambda: fresh.get("/api/v1/notes/").status_code == 200)
    assert ok(fresh.get(f"/api/v1/notes/{note['id']}"))["is_pinned"] is False
