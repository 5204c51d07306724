"""Chats through the gateway, in Open WebUI's shapes: create, read, list, update, delete,
pin, archive, clone."""

from __future__ import annotations

import httpx

from tests.chat.conftest import create, ok, sample_chat

CHAT_FIELDS = {"id", "user_id", "title", "chat", "updated_at", "created_at", "share_id",
               "archived", "pinned", "meta", "folder_id"}


def test_create_and_read_keep_open_webui_shape(backend, alice: httpx.Client) -> None:
    sent = sample_chat("Shapes")
    made = create(alice, sent)
    assert set(made) >= CHAT_FIELDS
    assert made["user_id"] == backend.alice.id and made["title"] == "Shapes"
    assert made["archived"] is False and made["pinned"] is False and made["share_id"] is None
    read = ok(alice.get(f"/api/v1/chats/{made['id']}"))
    assert read == made
    chat = read["chat"]
    assert chat["models"] == ["llama3:8b"] and chat["params"] == {"temperature": 0.4}
    assert chat["history"] == sent["history"]
    # `messages`: the active branch, root to currentId.
    assert [m["id"] for m in chat["messages"]] == ["u1", "a1", "u2", "a2"]
    assert read["current_message_id"] == "a2"


def test_list_pages_newest_first_and_hides_archived_pinned_and_foldered(fresh) -> None:
    ids = [create(fresh, sample_chat(f"chat {i}"))["id"] for i in range(63)]
    page1 = ok(fresh.get("/api/v1/chats/", params={"page": 1}))
    page2 = ok(fresh.get("/api/v1/chats/list", params={"page": 2}))
    assert len(page1) == 60 and len(page2) == 3
    assert [c["id"] for c in page1 + page2] == ids[::-1]
    assert set(page1[0]) == {"id", "title", "updated_at", "created_at", "last_read_at",
                             "snippet", "active", "archived"}  # Open WebUI 0.12's keys
    ok(fresh.post(f"/api/v1/chats/{ids[0]}/archive"))
    ok(fresh.post(f"/api/v1/chats/{ids[1]}/pin"))
    folder = ok(fresh.post("/api/v1/folders/", json={"name": "Work"}))
    ok(fresh.post(f"/api/v1/chats/{ids[2]}/folder", json={"folder_id": folder["id"]}))
    listed = {c["id"] for c in ok(fresh.get("/api/v1/chats/"))}
    assert len(listed) == 60 and not listed & set(ids[:3])
    everything = ok(fresh.get("/api/v1/chats/", params={"include_pinned": True,
                                                        "include_folders": True}))
    assert {c["id"] for c in everything} == set(ids[1:])
    by_title = ok(fresh.get("/api/v1/chats/", params={"sort_by": "title", "sort_dir": "asc",
                                                      "page": 1}))
    assert by_title[0]["title"] == "chat 10"


def test_update_merges_fields_and_diffs_messages(alice: httpx.Client) -> None:
    made = create(alice)
    chat = made["chat"]
    history = chat["history"]
    history["messages"]["a2"]["content"] = "regenerated, then edited"
    del history["messages"]["a3"]
    history["messages"]["u2"]["childrenIds"] = ["a2", "a4"]
    history["messages"]["a4"] = {"id": "a4", "parentId": "u2", "childrenIds": [],
                                 "role": "assistant", "content": "third try",
                                 "model": "llama3:8b", "timestamp": 1_700_000_009}
    history["currentId"] = "a4"
    updated = ok(alice.post(f"/api/v1/chats/{made['id']}",
                            json={"chat": {"title": "Renamed", "history": history,
                                           "params": {"seed": 7}}}))
    assert updated["title"] == "Renamed"
    assert updated["chat"]["params"] == {"seed": 7}
    assert updated["chat"]["models"] == ["llama3:8b"]
    assert updated["chat"]["history"] == history
    assert [m["id"] for m in updated["chat"]["messages"]] == ["u1", "a1", "u2", "a4"]
    assert updated["updated_at"] >= made["updated_at"]
    # A title alone leaves the messages as they are.
    renamed = ok(alice.post(f"/api/v1/chats/{made['id']}", json={"chat": {"title": "Again"}}))
    assert renamed["chat"]["history"] == history


def test_delete_one_and_all(fresh) -> None:
    one, two = create(fresh)["id"], create(fresh)["id"]
    assert ok(fresh.delete(f"/api/v1/chats/{one}")) is True
    assert fresh.get(f"/api/v1/chats/{one}").status_code == 404
    assert fresh.delete(f"/api/v1/chats/{one}").status_code == 404
    assert ok(fresh.delete("/api/v1/chats/")) is True
    assert fresh.get(f"/api/v1/chats/{two}").status_code == 404
    assert ok(fresh.get("/api/v1/chats/")) == []


def test_pin_and_archive_toggle_and_list(fresh) -> None:
    chat = create(fresh, sample_chat("Pin me"))["id"]
    assert ok(fresh.get(f"/api/v1/chats/{chat}/pinned")) is False
    assert ok(fresh.post(f"/api/v1/chats/{chat}/pin"))["pinned"] is True
    assert ok(fresh.get(f"/api/v1/chats/{chat}/pinned")) is True
    assert [c["id"] for c in ok(fresh.get("/api/v1/chats/pinned"))] == [chat]
    assert ok(fresh.post(f"/api/v1/chats/{chat}/pin"))["pinned"] is False
    assert ok(fresh.post(f"/api/v1/chats/{chat}/archive"))["archived"] is True
    assert [c["id"] for c in ok(fresh.get("/api/v1/chats/archived"))] == [chat]
    assert ok(fresh.get("/api/v1/chats/archived/count")) == 1
    assert [c["id"] for c in ok(fresh.get("/api/v1/chats/all/archived"))] == [chat]
    assert ok(fresh.get("/api/v1/chats/")) == []
    assert ok(fresh.post("/api/v1/chats/unarchive/all")) is True
    assert [c["id"] for c in ok(fresh.get("/api/v1/chats/"))] == [chat]
    assert ok(fresh.post("/api/v1/chats/archive/all")) is True
    assert ok(fresh.get("/api/v1/chats/archived/count")) == 1


def test_clone_copies_the_tree_under_a_new_id(alice: httpx.Client) -> None:
    made = create(alice)
    ok(alice.post(f"/api/v1/chats/{made['id']}/tags", json={"name": "cloned"}))
    clone = ok(alice.post(f"/api/v1/chats/{made['id']}/clone", json={}))
    assert clone["id"] != made["id"] and clone["title"] == "Clone of A chat"
    assert clone["chat"]["history"] == made["chat"]["history"]
    assert clone["chat"]["originalChatId"] == made["id"]
    assert clone["chat"]["branchPointMessageId"] == "a2"
    assert clone["meta"]["tags"] == ["cloned"]
    named = ok(alice.post(f"/api/v1/chats/{made['id']}/clone", json={"title": "Mine"}))
    assert named["title"] == "Mine"
    # The clone is a copy: changing it leaves the original alone.
    ok(alice.delete(f"/api/v1/chats/{clone['id']}/messages/u2"))
    assert ok(alice.get(f"/api/v1/chats/{made['id']}"))["chat"] == made["chat"]


def test_new_chat_without_history_and_with_legacy_messages(alice: httpx.Client) -> None:
    empty = create(alice, {"title": "Empty"})
    assert empty["chat"]["history"] == {"messages": {}, "currentId": None}
    assert empty["chat"]["messages"] == []
    untitled = create(alice, {"models": []})
    assert untitled["title"] == "New Chat"
    legacy = create(alice, {"title": "Old", "messages": [
        {"id": "x", "role": "user", "content": "one"},
        {"id": "y", "role": "assistant", "content": "two"}]})
    messages = legacy["chat"]["history"]["messages"]
    assert messages["y"]["parentId"] == "x" and messages["x"]["childrenIds"] == ["y"]
    assert legacy["chat"]["history"]["currentId"] == "y"


def test_direct_and_through_gateway_answer_alike(backend, alice: httpx.Client) -> None:
    made = create(alice)
    with backend.alice.client(backend.chat.url) as direct:
        assert ok(direct.get(f"/api/v1/chats/{made['id']}")) == made
