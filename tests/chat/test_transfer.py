"""Export (`GET /all`, one ChatResponse per line) and import (`POST /import`), losslessly."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.chat.conftest import create, ok, sample_chat


def export(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/api/v1/chats/all")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def _portable(chat: dict[str, Any]) -> dict[str, Any]:
    """What an export carries over to another account (ids and owner are new there)."""
    return {k: v for k, v in chat.items() if k not in ("id", "user_id", "share_id")}


def open_webui_export() -> list[dict[str, Any]]:
    """Chats as Open WebUI 0.12 exports them: branches, tags in meta, odd message fields."""
    branched = sample_chat("Trip to Lisbon", text="lisbon")
    odd = sample_chat("Odd fields")
    odd["history"]["messages"]["u1"]["content"] = [{"type": "text", "text": "parts"}]
    odd["history"]["messages"]["a1"]["timestamp"] = 1_700_000_001.5
    odd["history"]["messages"]["a1"]["model"] = None
    odd["history"]["messages"]["a2"]["statusHistory"] = [{"done": True, "action": "web"}]
    return [
        {"id": "c1", "user_id": "someone", "title": "Trip to Lisbon", "chat": branched,
         "updated_at": 1_700_000_100, "created_at": 1_700_000_000, "share_id": None,
         "archived": False, "pinned": True, "meta": {"tags": ["travel", "family_plans"]},
         "folder_id": None},
        {"id": "c2", "user_id": "someone", "title": "Odd fields", "chat": odd,
         "updated_at": 1_700_000_300, "created_at": 1_700_000_200, "share_id": None,
         "archived": True, "pinned": False, "meta": {"tags": ["travel"], "pos": 3},
         "folder_id": "a-folder-elsewhere"},
        {"id": "c3", "user_id": "someone", "title": "Empty", "chat": {"title": "Empty"},
         "updated_at": 1_700_000_400, "created_at": 1_700_000_400, "archived": False,
         "meta": {}},
    ]


def test_open_webui_export_imports_and_exports_back_whole(fresh: httpx.Client) -> None:
    source = open_webui_export()
    imported = ok(fresh.post("/api/v1/chats/import", json={"chats": source}))
    assert [c["title"] for c in imported] == ["Trip to Lisbon", "Odd fields", "Empty"]
    exported = sorted(export(fresh), key=lambda c: c["created_at"])
    assert [_portable(c) for c in exported] == [_portable(c) for c in imported]
    for original, back in zip(source, exported, strict=True):
        assert back["id"] != original["id"]
        assert back["chat"]["history"] == original["chat"].get("history",
                                                               {"messages": {},
                                                                "currentId": None})
        # Tags are a set: they come back sorted.
        assert back["meta"] == {**original["meta"],
                                "tags": sorted(original["meta"].get("tags", []))}
        for key in ("pinned", "archived", "created_at", "updated_at"):
            assert back[key] == original.get(key, False), key
        assert back["folder_id"] is None  # the folder is not the caller's
    assert [t["id"] for t in ok(fresh.get("/api/v1/chats/all/tags"))] == ["family_plans",
                                                                          "travel"]
    odd = exported[1]["chat"]["history"]["messages"]
    assert odd["u1"]["content"] == [{"type": "text", "text": "parts"}]
    assert odd["a1"]["timestamp"] == 1_700_000_001.5 and odd["a1"]["model"] is None


def test_export_then_import_elsewhere_round_trips(backend, alice: httpx.Client,
                                                  fresh: httpx.Client) -> None:
    made = create(alice, sample_chat("Round trip"))
    ok(alice.post(f"/api/v1/chats/{made['id']}/tags", json={"name": "Keep Me"}))
    ok(alice.post(f"/api/v1/chats/{made['id']}/messages",
                  json={"parentId": "u3", "role": "assistant", "content": "late reply"}))
    ok(alice.post(f"/api/v1/chats/{made['id']}/pin"))
    mine = next(c for c in export(alice) if c["id"] == made["id"])
    ok(fresh.post("/api/v1/chats/import", json={"chats": [mine]}))
    (copy,) = export(fresh)
    assert _portable(copy) == _portable(mine)
    # And again, from the copy: still the same.
    ok(fresh.post("/api/v1/chats/import", json={"chats": [copy]}))
    assert all(_portable(c) == _portable(mine) for c in export(fresh))


def test_a_bad_chat_anywhere_stores_nothing(fresh: httpx.Client) -> None:
    good = sample_chat("Good")
    bad = sample_chat("Bad")
    bad["history"]["messages"]["a2"]["parentId"] = "missing"
    refused = fresh.post("/api/v1/chats/import", json={"chats": [
        {"chat": good, "meta": {"tags": ["kept"]}}, {"chat": good}, {"chat": bad}]})
    assert refused.status_code == 422
    assert "chats[2]" in refused.json()["detail"] and "missing" in refused.json()["detail"]
    assert export(fresh) == []
    assert ok(fresh.get("/api/v1/chats/all/tags")) == []


def test_malformed_import_files_are_422(fresh: httpx.Client) -> None:
    cyclic = sample_chat("Cyclic")
    cyclic["history"]["messages"]["u1"]["parentId"] = "a2"
    for body in ({"chats": "nope"}, {"chats": [{"title": "no chat object"}]},
                 {"chats": [{"chat": {"history": []}}]},
                 {"chats": [{"chat": {"history": {"messages": {"x": "not an object"}}}}]},
                 {"chats": [{"chat": {"title": 5}}]},
                 {"chats": [{"chat": cyclic}]},
                 {"chats": [{"chat": {}, "meta": {"tags": "not-a-list"}}]},
                 {"chats": []}, [1, 2]):
        response = fresh.post("/api/v1/chats/import", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"]
    garbage = fresh.post("/api/v1/chats/import", content=b"{not json",
                         headers={"content-type": "application/json"})
    assert garbage.status_code == 400
    assert export(fresh) == []
