"""Share links (readable by any signed-in user until revoked) and per-user preferences."""

from __future__ import annotations

import httpx

from tests.chat.conftest import create, ok, sample_chat


def test_share_is_a_snapshot_readable_by_others_until_revoked(
        backend, alice: httpx.Client, bob: httpx.Client) -> None:
    made = create(alice, sample_chat("Shared plan"))
    shared = ok(alice.post(f"/api/v1/chats/{made['id']}/share"))
    share_id = shared["share_id"]
    assert share_id and ok(alice.get(f"/api/v1/chats/{made['id']}"))["share_id"] == share_id
    seen = ok(bob.get(f"/api/v1/chats/share/{share_id}"))
    assert seen["id"] == share_id and seen["title"] == "Shared plan"
    assert seen["chat"]["history"] == made["chat"]["history"]
    # Messages added after sharing are not in the link until it is shared again.
    later = ok(alice.post(f"/api/v1/chats/{made['id']}/messages",
                          json={"role": "user", "content": "private afterthought"}))
    assert later["id"] not in ok(bob.get(f"/api/v1/chats/share/{share_id}")
                                 )["chat"]["history"]["messages"]
    assert ok(alice.post(f"/api/v1/chats/{made['id']}/share"))["share_id"] == share_id
    assert later["id"] in ok(bob.get(f"/api/v1/chats/share/{share_id}")
                             )["chat"]["history"]["messages"]
    # Bob may copy it into his own chats.
    copy = ok(bob.post(f"/api/v1/chats/{share_id}/clone/shared"))
    assert copy["user_id"] == backend.bob.id and copy["title"] == "Clone of Shared plan"
    assert ok(bob.get(f"/api/v1/chats/{copy['id']}"))["chat"]["history"]["currentId"] \
        == later["id"]
    listed = ok(alice.get("/api/v1/chats/shared"))
    assert {"id": share_id, "chat_id": made["id"], "share_id": share_id} .items() <= \
        next(s for s in listed if s["chat_id"] == made["id"]).items()
    assert ok(alice.delete(f"/api/v1/chats/{made['id']}/share")) is True
    assert bob.get(f"/api/v1/chats/share/{share_id}").status_code == 404
    assert bob.post(f"/api/v1/chats/{share_id}/clone/shared").status_code == 404
    assert ok(alice.delete(f"/api/v1/chats/{made['id']}/share")) is False
    assert ok(alice.get(f"/api/v1/chats/{made['id']}"))["share_id"] is None


def test_revoke_all_and_owner_only(alice: httpx.Client, bob: httpx.Client) -> None:
    chat = create(alice)["id"]
    share_id = ok(alice.post(f"/api/v1/chats/{chat}/share"))["share_id"]
    assert bob.post(f"/api/v1/chats/{chat}/share").status_code == 404
    assert bob.delete(f"/api/v1/chats/{chat}/share").status_code == 404
    assert ok(bob.delete("/api/v1/chats/share/all")) is True
    assert ok(bob.get(f"/api/v1/chats/share/{share_id}"))["id"] == share_id
    assert ok(alice.delete("/api/v1/chats/share/all")) is True
    assert bob.get(f"/api/v1/chats/share/{share_id}").status_code == 404


def test_open_webui_settings_and_chat_preferences(fresh: httpx.Client,
                                                  bob: httpx.Client) -> None:
    assert ok(fresh.get("/api/v1/users/user/settings")) is None  # never saved: as Open WebUI
    saved = ok(fresh.post("/api/v1/users/user/settings/update",
                          json={"ui": {"theme": "dark", "models": ["llama3:8b"]}, "beta": 1}))
    assert saved == {"ui": {"theme": "dark", "models": ["llama3:8b"]}, "beta": 1}
    assert ok(fresh.get("/api/v1/chats/preferences")) == {
        "default_model": "llama3:8b", "system_prompt": None, "params": {},
        "ui": {"theme": "dark", "models": ["llama3:8b"]}}
    typed = ok(fresh.post("/api/v1/chats/preferences", json={
        "default_model": "qwen2:7b", "system_prompt": "Be brief.",
        "params": {"temperature": 0.2}}))
    assert typed["default_model"] == "qwen2:7b" and typed["system_prompt"] == "Be brief."
    settings = ok(fresh.get("/api/v1/users/user/settings"))
    assert settings["ui"] == {"theme": "dark", "models": ["qwen2:7b"], "system": "Be brief.",
                              "params": {"temperature": 0.2}}
    assert settings["beta"] == 1
    # Each user has their own.
    assert ok(bob.get("/api/v1/chats/preferences"))["system_prompt"] != "Be brief."
    huge = fresh.post("/api/v1/chats/preferences", json={"system_prompt": "x" * 300_000})
    assert huge.status_code == 413 and "settings" in huge.json()["detail"]


def test_each_settings_page_saves_a_patch_of_ui(fresh: httpx.Client) -> None:
    """The 0.12 app saves each settings page as `{"ui": {...its keys}}`: the keys another
    page saved stay; a key sent again (a page's whole object, like `params`) is replaced."""
    ok(fresh.post("/api/v1/users/user/settings/update",
                  json={"ui": {"system": "Be terse.", "params": {"temperature": 0.3}}}))
    ok(fresh.post("/api/v1/users/user/settings/update",
                  json={"ui": {"widescreenMode": True}}))
    saved = ok(fresh.post("/api/v1/users/user/settings/update",
                          json={"ui": {"params": {"top_k": 5}, "fontFamily": None}}))
    assert saved["ui"] == {"system": "Be terse.", "params": {"top_k": 5},
                           "widescreenMode": True, "fontFamily": None}
    assert ok(fresh.get("/api/v1/users/user/settings")) == saved
    # The whole document is held to the limit, however it was sent.
    for index in range(2):  # 90 KB each: under the 256 KB limit together
        ok(fresh.post("/api/v1/users/user/settings/update",
                      json={"ui": {f"note{index}": "x" * 90_000}}))
    big = fresh.post("/api/v1/users/user/settings/update",
                     json={"ui": {"note2": "x" * 90_000}})
    assert big.status_code == 413 and "settings" in big.json()["detail"], big.text
    assert "note2" not in ok(fresh.get("/api/v1/users/user/settings"))["ui"]
