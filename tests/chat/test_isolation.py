"""Two users who cannot see each other's data; admins read others' chats only on admin routes."""

from __future__ import annotations

import json

import httpx

from tests.chat.conftest import create, ok, sample_chat


def test_another_users_things_answer_404_everywhere(backend, alice: httpx.Client,
                                                    bob: httpx.Client) -> None:
    chat = create(alice, sample_chat("Alice's secret", text="secret"))["id"]
    folder = ok(alice.post("/api/v1/folders/", json={"name": "Alice's"}))["id"]
    ok(alice.post(f"/api/v1/chats/{chat}/tags", json={"name": "alice-only"}))
    message = {"role": "user", "content": "x"}
    attempts = [
        ("GET", f"/api/v1/chats/{chat}", None),
        ("POST", f"/api/v1/chats/{chat}", {"chat": {"title": "mine now"}}),
        ("DELETE", f"/api/v1/chats/{chat}", None),
        ("GET", f"/api/v1/chats/{chat}/pinned", None),
        ("POST", f"/api/v1/chats/{chat}/pin", None),
        ("POST", f"/api/v1/chats/{chat}/archive", None),
        ("POST", f"/api/v1/chats/{chat}/clone", {}),
        ("POST", f"/api/v1/chats/{chat}/folder", {"folder_id": None}),
        ("POST", f"/api/v1/chats/{chat}/share", None),
        ("DELETE", f"/api/v1/chats/{chat}/share", None),
        ("GET", f"/api/v1/chats/{chat}/tags", None),
        ("POST", f"/api/v1/chats/{chat}/tags", {"name": "bob"}),
        ("DELETE", f"/api/v1/chats/{chat}/tags", {"name": "alice-only"}),
        ("DELETE", f"/api/v1/chats/{chat}/tags/all", None),
        ("GET", f"/api/v1/chats/{chat}/messages", None),
        ("GET", f"/api/v1/chats/{chat}/messages?path=current", None),
        ("POST", f"/api/v1/chats/{chat}/messages", message),
        ("POST", f"/api/v1/chats/{chat}/messages/u1", {"content": "x"}),
        ("DELETE", f"/api/v1/chats/{chat}/messages/u1", None),
        ("GET", f"/api/v1/folders/{folder}", None),
        ("POST", f"/api/v1/folders/{folder}/update", {"name": "bob's"}),
        ("POST", f"/api/v1/folders/{folder}/update/parent", {"parent_id": None}),
        ("POST", f"/api/v1/folders/{folder}/update/expanded", {"is_expanded": True}),
        ("DELETE", f"/api/v1/folders/{folder}", None),
        ("GET", f"/api/v1/chats/folder/{folder}", None),
        ("GET", f"/api/v1/chats/folder/{folder}/list", None),
        ("POST", "/api/v1/chats/new", {"chat": {}, "folder_id": folder}),
        ("POST", "/api/v1/folders/", {"name": "sub", "parent_id": folder}),
    ]
    for method, path, body in attempts:
        response = bob.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    # Nothing of Alice's shows up in Bob's lists, and nothing was changed.
    assert chat not in json.dumps(ok(bob.get("/api/v1/chats/")))
    assert ok(bob.get("/api/v1/chats/search", params={"text": "secret"})) == []
    assert ok(bob.post("/api/v1/chats/tags", json={"name": "alice-only"})) == []
    assert "alice-only" not in json.dumps(ok(bob.get("/api/v1/chats/all/tags")))
    assert folder not in json.dumps(ok(bob.get("/api/v1/folders/")))
    assert chat not in bob.get("/api/v1/chats/all").text
    ok(bob.delete("/api/v1/chats/"))
    still = ok(alice.get(f"/api/v1/chats/{chat}"))
    assert still["title"] == "Alice's secret" and still["meta"]["tags"] == ["alice-only"]
    assert len(still["chat"]["history"]["messages"]) == 6


def test_admin_reads_others_only_through_admin_routes(backend, alice: httpx.Client,
                                                      bob: httpx.Client) -> None:
    chat = create(alice, sample_chat("For the admin's eyes"))["id"]
    with backend.admin.client() as admin:
        assert admin.get(f"/api/v1/chats/{chat}").status_code == 404
        listed = ok(admin.get(f"/api/v1/chats/list/user/{backend.alice.id}"))
        assert chat in [c["id"] for c in listed]
        assert ok(admin.get(f"/api/v1/chats/admin/{chat}"))["user_id"] == backend.alice.id
        everything = ok(admin.get("/api/v1/chats/all/db"))
        assert chat in [c["id"] for c in everything]
        assert admin.get("/api/v1/chats/admin/no-such-chat").status_code == 404
    for path in (f"/api/v1/chats/list/user/{backend.alice.id}", f"/api/v1/chats/admin/{chat}",
                 "/api/v1/chats/all/db"):
        refused = bob.get(path)
        assert refused.status_code == 403 and "admin" in refused.json()["detail"]
