"""The sidebar's and the message toolbar's chat actions (issue 16): fork, chat controls' params,
read and unread, who may open a share link, folders shared with another user. Each through the
gateway, with the owner and another user; bad input answers a clear 4xx and stores nothing."""

from __future__ import annotations

import time

import httpx

from tests.chat.conftest import Backend, create, ok, sample_chat
from tests.support.permissions import grant_by_default


def _history(chat: dict) -> dict:
    return chat["chat"]["history"]


# ---- fork --------------------------------------------------------------------------------------


def test_fork_copies_one_branch_into_a_new_chat(alice: httpx.Client) -> None:
    made = create(alice, sample_chat("Trip"))
    fork = ok(alice.post(f"/api/v1/chats/{made['id']}/fork", json={"message_id": "u3"}))
    assert fork["id"] != made["id"] and fork["title"] == "Trip (fork)"
    history = _history(fork)
    assert set(history["messages"]) == {"u1", "a1", "u3"} and history["currentId"] == "u3"
    assert history["messages"]["a1"]["childrenIds"] == ["u3"]
    assert fork["chat"]["branchPointMessageId"] == "u3"
    assert fork["meta"]["forked_from"] == made["id"]
    stored = ok(alice.get(f"/api/v1/chats/{fork['id']}"))
    assert set(_history(stored)["messages"]) == {"u1", "a1", "u3"}
    # Without a message: the current branch.
    current = ok(alice.post(f"/api/v1/chats/{made['id']}/fork"))
    assert set(_history(current)["messages"]) == {"u1", "a1", "u2", "a2"}
    # The source is untouched.
    assert _history(ok(alice.get(f"/api/v1/chats/{made['id']}"))) == _history(made)


def test_fork_of_a_missing_message_or_another_users_chat_is_404(
        alice: httpx.Client, bob: httpx.Client) -> None:
    made = create(alice, sample_chat("Mine"))
    before = len(ok(alice.get("/api/v1/chats/", params={"include_pinned": True})))
    ok(alice.post(f"/api/v1/chats/{made['id']}/fork", json={"message_id": "nope"}), 404)
    ok(bob.post(f"/api/v1/chats/{made['id']}/fork"), 404)
    empty = create(alice, {"title": "empty"})
    ok(alice.post(f"/api/v1/chats/{empty['id']}/fork"), 400)
    after = len(ok(alice.get("/api/v1/chats/", params={"include_pinned": True})))
    assert after == before + 1  # only the empty chat: no fork was stored


def test_fork_of_a_share_link_is_the_readers_own(alice: httpx.Client, bob: httpx.Client) -> None:
    made = create(alice, sample_chat("Open plan"))
    share = ok(alice.post(f"/api/v1/chats/{made['id']}/share"))["share_id"]
    fork = ok(bob.post(f"/api/v1/chats/{share}/fork", json={"message_id": "a1"}))
    assert set(_history(fork)["messages"]) == {"u1", "a1"}
    assert fork["user_id"] != made["user_id"] and fork["folder_id"] is None
    assert ok(bob.get(f"/api/v1/chats/{fork['id']}"))["title"] == "Open plan (fork)"


# ---- chat controls -----------------------------------------------------------------------------


def test_params_merge_into_the_chat_and_stay(alice: httpx.Client, bob: httpx.Client) -> None:
    made = create(alice, sample_chat("Controls"))
    answer = ok(alice.patch(f"/api/v1/chats/{made['id']}/params",
                            json={"system": "Answer in French.", "top_p": 0.5}))
    assert answer == {"temperature": 0.4, "system": "Answer in French.", "top_p": 0.5}
    stored = ok(alice.get(f"/api/v1/chats/{made['id']}"))
    assert stored["chat"]["params"] == answer and stored["updated_at"] == made["updated_at"]
    ok(bob.patch(f"/api/v1/chats/{made['id']}/params", json={"system": "x"}), 404)
    ok(alice.patch(f"/api/v1/chats/{made['id']}/params", json={"system": "y" * 300_000}), 413)
    ok(alice.patch(f"/api/v1/chats/{made['id']}/params", json=["not", "an", "object"]), 422)
    assert ok(alice.get(f"/api/v1/chats/{made['id']}"))["chat"]["params"] == answer


# ---- read and unread ---------------------------------------------------------------------------


def _listed(client: httpx.Client, chat_id: str) -> dict:
    listed = ok(client.get("/api/v1/chats/", params={"include_folders": True,
                                                     "include_pinned": True}))
    return next(item for item in listed if item["id"] == chat_id)


def test_unread_until_read_and_folders_count_it(fresh: httpx.Client, bob: httpx.Client) -> None:
    folder = ok(fresh.post("/api/v1/folders/", json={"name": "Work"}))
    inner = ok(fresh.post("/api/v1/folders/", json={"name": "Inner", "parent_id": folder["id"]}))
    made = create(fresh, sample_chat("Unread"), folder_id=inner["id"])
    assert _listed(fresh, made["id"])["last_read_at"] == made["updated_at"]
    answer = ok(fresh.post(f"/api/v1/chats/{made['id']}/unread"))
    assert answer["chat_id"] == made["id"] and answer["last_read_at"] == 0
    assert answer["folder_id"] == inner["id"]
    assert answer["folder_unread_counts"] == {folder["id"]: 1, inner["id"]: 1}
    assert _listed(fresh, made["id"])["last_read_at"] == 0
    counts = {f["id"]: f["unread_count"] for f in ok(fresh.get("/api/v1/folders/"))}
    assert counts == {folder["id"]: 1, inner["id"]: 1}
    ok(bob.post(f"/api/v1/chats/{made['id']}/unread"), 404)
    read = ok(fresh.post(f"/api/v1/folders/{folder['id']}/read"))
    assert read["updated_count"] == 1 and set(read["folder_ids"]) == {folder["id"], inner["id"]}
    assert _listed(fresh, made["id"])["last_read_at"] == made["updated_at"]
    ok(fresh.post(f"/api/v1/chats/{made['id']}/unread"))
    everything = ok(fresh.post("/api/v1/chats/read"))
    assert everything["updated_count"] == 1
    assert everything["folder_unread_counts"] == {folder["id"]: 0, inner["id"]: 0}
    ok(bob.post(f"/api/v1/folders/{folder['id']}/read"), 404)


# ---- share links -------------------------------------------------------------------------------


def test_share_link_access_is_the_owners_choice(backend: Backend, alice: httpx.Client,
                                                bob: httpx.Client) -> None:
    made = create(alice, sample_chat("Guarded"))
    chat_id = made["id"]
    share = ok(alice.post(f"/api/v1/chats/{chat_id}/share"))["share_id"]
    grants = ok(alice.get(f"/api/v1/chats/shared/{chat_id}/access"))
    assert [(g["principal_type"], g["principal_id"], g["permission"]) for g in grants] == [
        ("user", "*", "read")]
    ok(bob.get(f"/api/v1/chats/share/{share}"))
    # Private: the owner only.
    ok(alice.post(f"/api/v1/chats/shared/{chat_id}/access/update", json={"access_grants": []}))
    ok(bob.get(f"/api/v1/chats/share/{share}"), 404)
    ok(bob.post(f"/api/v1/chats/{share}/clone/shared"), 404)
    assert ok(alice.get(f"/api/v1/chats/share/{share}"))["title"] == "Guarded"
    # One named user.
    ok(alice.post(f"/api/v1/chats/shared/{chat_id}/access/update", json={"access_grants": [
        {"principal_type": "user", "principal_id": backend.bob.id, "permission": "read"}]}))
    seen = ok(bob.get(f"/api/v1/chats/share/{share}"))
    assert seen["variables"] == {} and "params" not in seen["chat"]
    # Bad grants: 400, the stored ones stay.
    ok(alice.post(f"/api/v1/chats/shared/{chat_id}/access/update", json={"access_grants": [
        {"principal_type": "robot", "principal_id": "x", "permission": "read"}]}), 400)
    assert len(ok(alice.get(f"/api/v1/chats/shared/{chat_id}/access"))) == 1
    # Only the owner sees or changes who may open it.
    ok(bob.get(f"/api/v1/chats/shared/{chat_id}/access"), 404)
    ok(bob.post(f"/api/v1/chats/shared/{chat_id}/access/update",
                json={"access_grants": []}), 404)


def test_share_of_a_chat_that_is_gone_is_404(alice: httpx.Client, bob: httpx.Client) -> None:
    made = create(alice, sample_chat("Short-lived"))
    share = ok(alice.post(f"/api/v1/chats/{made['id']}/share"))["share_id"]
    ok(alice.delete(f"/api/v1/chats/{made['id']}"))
    ok(alice.post(f"/api/v1/chats/{made['id']}/share"), 404)
    ok(bob.get(f"/api/v1/chats/share/{share}"), 404)
    ok(alice.get(f"/api/v1/chats/shared/{made['id']}/access"), 404)


# ---- folders shared with another user ----------------------------------------------------------


def test_a_shared_folder_shows_its_chats_read_only(backend: Backend, alice: httpx.Client,
                                                   bob: httpx.Client) -> None:
    folder = ok(alice.post("/api/v1/folders/", json={"name": "Team notes"}))
    made = create(alice, sample_chat("Minutes"), folder_id=folder["id"])
    ok(bob.get(f"/api/v1/folders/{folder['id']}"), 404)
    ok(bob.get(f"/api/v1/chats/{made['id']}"), 404)
    assert folder["id"] not in {f["id"] for f in ok(bob.get("/api/v1/folders/shared"))}
    to_bob = {"access_grants": [{"principal_type": "user", "principal_id": backend.bob.id,
                                 "permission": "read"}]}
    refused = alice.post(f"/api/v1/folders/{folder['id']}/access/update", json=to_bob)
    assert refused.status_code == 403 and "'sharing.folders'" in refused.json()["detail"]
    with backend.admin.client() as admin:
        grant_by_default(admin, "sharing.folders")
    updated = ok(alice.post(f"/api/v1/folders/{folder['id']}/access/update", json=to_bob))
    assert updated["access_grants"][0]["principal_id"] == backend.bob.id
    shared = {f["id"]: f for f in ok(bob.get("/api/v1/folders/shared"))}
    assert shared[folder["id"]]["permission"] == "read"
    seen = ok(bob.get(f"/api/v1/folders/{folder['id']}"))
    assert seen["write_access"] is False
    chats = ok(bob.get(f"/api/v1/folders/{folder['id']}/shared/chats"))
    assert [c["id"] for c in chats["chats"]] == [made["id"]] and chats["chats"][0]["readonly"]
    assert chats["folder_permission"] == "read"
    opened = ok(bob.get(f"/api/v1/chats/{made['id']}"))
    assert _history(opened) == _history(made) and "params" not in opened["chat"]
    # Reading is all: no change, no access change.
    ok(bob.post(f"/api/v1/chats/{made['id']}", json={"chat": {"title": "mine now"}}), 404)
    ok(bob.delete(f"/api/v1/chats/{made['id']}"), 404)
    ok(bob.post(f"/api/v1/folders/{folder['id']}/access/update",
                json={"access_grants": []}), 404)
    assert ok(alice.get(f"/api/v1/chats/{made['id']}"))["title"] == "Minutes"
    # Withdrawn: gone again.
    ok(alice.post(f"/api/v1/folders/{folder['id']}/access/update", json={"access_grants": []}))
    ok(bob.get(f"/api/v1/chats/{made['id']}"), 404)


def test_folder_into_itself_or_its_child_is_400_and_nothing_moves(alice: httpx.Client) -> None:
    top = ok(alice.post("/api/v1/folders/", json={"name": "Top"}))
    child = ok(alice.post("/api/v1/folders/", json={"name": "Child", "parent_id": top["id"]}))
    for target in (top["id"], child["id"]):
        ok(alice.post(f"/api/v1/folders/{top['id']}/update/parent",
                      json={"parent_id": target}), 400)
    assert ok(alice.get(f"/api/v1/folders/{top['id']}"))["parent_id"] is None
    moved = ok(alice.post(f"/api/v1/folders/{child['id']}/update/parent",
                          json={"parent_id": None}))
    assert moved["parent_id"] is None
    renamed = ok(alice.post(f"/api/v1/folders/{child['id']}/update", json={"name": "Renamed"}))
    assert ok(alice.get(f"/api/v1/folders/{child['id']}"))["name"] == renamed["name"] == "Renamed"


# ---- bad input elsewhere -----------------------------------------------------------------------


def test_tags_empty_or_too_long_are_refused(alice: httpx.Client) -> None:
    made = create(alice, sample_chat("Tagged"))
    for name in ("", "x" * 101):
        ok(alice.post(f"/api/v1/chats/{made['id']}/tags", json={"name": name}), 422)
    assert ok(alice.get(f"/api/v1/chats/{made['id']}/tags")) == []


def test_editing_a_message_of_another_chat_is_404(alice: httpx.Client, bob: httpx.Client
                                                  ) -> None:
    first, second = create(alice, sample_chat("One")), create(alice, {"title": "Two"})
    ok(alice.post(f"/api/v1/chats/{second['id']}/messages/u1", json={"content": "moved"}), 404)
    ok(bob.post(f"/api/v1/chats/{first['id']}/messages/u1", json={"content": "mine"}), 404)
    ok(alice.delete(f"/api/v1/chats/{second['id']}/messages/u1"), 404)
    assert _history(ok(alice.get(f"/api/v1/chats/{first['id']}"))) == _history(first)


# ---- statistics, settings, the end-of-answer call ----------------------------------------------


def test_usage_and_export_statistics_of_ones_own_chats(fresh: httpx.Client,
                                                       bob: httpx.Client) -> None:
    made = create(fresh, sample_chat("Counted"))
    usage = ok(fresh.get("/api/v1/chats/stats/usage"))
    assert usage["total"] == 1
    item = usage["items"][0]
    assert item["id"] == made["id"] and item["message_count"] == 4
    assert item["history_message_count"] == 6 and item["history_assistant_message_count"] == 3
    assert item["models"] == {"llama3:8b": 2} and item["last_message_at"] == 1_700_000_004
    page = ok(fresh.get("/api/v1/chats/stats/export"))
    assert page["total"] == 1 and page["page"] == 1
    one = ok(fresh.get(f"/api/v1/chats/stats/export/{made['id']}"))
    assert one == page["items"][0]
    assert one["chat"]["history"]["messages"]["a2"]["rating"] == 1
    lines = fresh.get("/api/v1/chats/stats/export", params={"stream": True})
    assert lines.status_code == 200 and len(lines.text.splitlines()) == 1
    ok(bob.get(f"/api/v1/chats/stats/export/{made['id']}"), 404)


def test_chat_config_is_the_admins(backend: Backend, alice: httpx.Client) -> None:
    ok(alice.get("/api/v1/chats/config"), 403)
    with backend.admin.client() as admin:
        config = ok(admin.get("/api/v1/chats/config"))
        assert config["TOOL_SEARCH_DEFER_THRESHOLD"] == 400
        config.update(ENABLE_CONTEXT_COMPACTION=True, CONTEXT_COMPACTION_TOKEN_THRESHOLD=9000)
        assert ok(admin.post("/api/v1/chats/config", json=config)) == config
        assert ok(admin.get("/api/v1/chats/config")) == config
        ok(admin.post("/api/v1/chats/config", json={**config,
                                                     "CONTEXT_COMPACTION_RETENTION_PERCENTAGE":
                                                     300}), 422)
        assert ok(admin.get("/api/v1/chats/config")) == config


def test_completed_gives_the_body_back_for_ones_own_chat(alice: httpx.Client,
                                                         bob: httpx.Client) -> None:
    made = create(alice, sample_chat("Done"))
    body = {"model": "llama3:8b", "chat_id": made["id"], "id": "a2", "session_id": "s",
            "messages": [{"id": "u1", "role": "user", "content": "hello first"}],
            "model_item": {"id": "llama3:8b"}}
    answer = ok(alice.post("/api/chat/completed", json=body))
    assert answer == {k: v for k, v in body.items() if k != "model_item"}
    ok(bob.post("/api/chat/completed", json=body), 404)
    ok(alice.post(f"/api/v1/chats/{made['id']}/messages/a2/event",
                  json={"type": "status", "data": {"description": "done"}}))
    ok(bob.post(f"/api/v1/chats/{made['id']}/messages/a2/event",
                json={"type": "status", "data": {}}), 404)


# ---- Open WebUI's permissions ------------------------------------------------------------------


def _with_defaults(backend: Backend, changes: dict[str, dict[str, bool]]) -> tuple[dict, dict]:
    """The default permissions, and them with `changes` (section -> key -> value)."""
    with backend.admin.client() as admin:
        defaults = ok(admin.get("/api/v1/users/default/permissions"))
    changed = {section: {**values, **changes.get(section, {})}
               for section, values in defaults.items()}
    return defaults, changed


def _set_defaults(backend: Backend, permissions: dict) -> None:
    with backend.admin.client() as admin:
        ok(admin.post("/api/v1/users/default/permissions", json=permissions))
    time.sleep(1.5)  # each replica's gateway signs new access headers within about a second


def test_what_the_permissions_forbid_is_403_and_nothing_changes(backend: Backend,
                                                                fresh: httpx.Client) -> None:
    made = create(fresh, sample_chat("Guarded"))
    folder = ok(fresh.post("/api/v1/folders/", json={"name": "Kept"}))
    ok(fresh.post(f"/api/v1/chats/{made['id']}/folder", json={"folder_id": folder["id"]}))
    defaults, denied = _with_defaults(backend, {
        "chat": {"delete": False, "share": False, "import": False},
        "features": {"folders": False}})
    _set_defaults(backend, denied)
    try:
        for method, path in (("DELETE", f"/api/v1/chats/{made['id']}"),
                             ("DELETE", "/api/v1/chats/"),
                             ("POST", f"/api/v1/chats/{made['id']}/share"),
                             ("POST", f"/api/v1/chats/{made['id']}/clone"),
                             ("POST", f"/api/v1/chats/{made['id']}/fork"),
                             ("GET", "/api/v1/folders/"),
                             ("DELETE", f"/api/v1/folders/{folder['id']}")):
            answer = fresh.request(method, path, json={} if method == "POST" else None)
            assert answer.status_code == 403, (method, path, answer.text)
        with backend.admin.client() as admin:  # an admin may, whatever the defaults
            ok(admin.get("/api/v1/folders/"))
    finally:
        _set_defaults(backend, defaults)
    stored = ok(fresh.get(f"/api/v1/chats/{made['id']}"))
    assert stored["share_id"] is None and stored["folder_id"] == folder["id"]
    assert len(ok(fresh.get("/api/v1/chats/", params={"include_folders": True}))) == 1


def test_the_search_box_finds_ones_chats_in_a_folder_scope(fresh: httpx.Client,
                                                           bob: httpx.Client) -> None:
    folder = ok(fresh.post("/api/v1/folders/", json={"name": "Recipes"}))
    inside = create(fresh, sample_chat("Quince jam"), folder_id=folder["id"])
    outside = create(fresh, sample_chat("Quince tree"))
    found = ok(fresh.get("/api/v1/search", params={"q": "quince"}))
    assert {i["id"] for i in found["items"]} == {inside["id"], outside["id"]}
    item = next(i for i in found["items"] if i["id"] == inside["id"])
    assert item["kind"] == "chat" and item["url"] == f"/c/{inside['id']}"
    assert item["context"] == "Recipes" and found["kinds"] == ["chat"]
    assert found["scopes"] == [{"id": f"folder:{folder['id']}", "name": "Recipes",
                                "kind": "folder"}]
    scoped = ok(fresh.get("/api/v1/search", params={"q": "quince",
                                                     "scope": f"folder:{folder['id']}"}))
    assert [i["id"] for i in scoped["items"]] == [inside["id"]]
    assert ok(bob.get("/api/v1/search", params={"q": "quince"}))["items"] == []
    assert ok(fresh.get("/api/v1/search", params={"q": "quince",
                                                   "scope": "folder:not-mine"}))["items"] == []
