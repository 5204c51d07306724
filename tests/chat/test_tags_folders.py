"""Tags (Open WebUI's ids: lower case, underscores) and nested folders."""

from __future__ import annotations

import httpx

from tests.chat.conftest import create, ok, sample_chat


def test_tags_add_list_filter_remove(backend, fresh) -> None:
    one, two = create(fresh)["id"], create(fresh)["id"]
    tags = ok(fresh.post(f"/api/v1/chats/{one}/tags", json={"name": "Deep Work"}))
    assert tags == [{"id": "deep_work", "name": "Deep Work", "user_id": tags[0]["user_id"],
                     "meta": None}]
    ok(fresh.post(f"/api/v1/chats/{one}/tags", json={"name": "deep work"}))  # the same tag
    ok(fresh.post(f"/api/v1/chats/{one}/tags", json={"name": "later"}))
    ok(fresh.post(f"/api/v1/chats/{two}/tags", json={"name": "later"}))
    assert [t["id"] for t in ok(fresh.get(f"/api/v1/chats/{one}/tags"))] == ["deep_work",
                                                                             "later"]
    assert ok(fresh.get(f"/api/v1/chats/{one}"))["meta"]["tags"] == ["deep_work", "later"]
    assert [t["id"] for t in ok(fresh.get("/api/v1/chats/all/tags"))] == ["deep_work", "later"]
    tagged = ok(fresh.post("/api/v1/chats/tags", json={"name": "later"}))
    assert {c["id"] for c in tagged} == {one, two}
    assert ok(fresh.post("/api/v1/chats/tags", json={"name": "later", "limit": 1}))[0]["id"] \
        == tagged[0]["id"]
    # Removing the last use of a tag drops it.
    assert ok(fresh.request("DELETE", f"/api/v1/chats/{one}/tags",
                            json={"name": "Deep Work"})) == [tags[0] | {"id": "later",
                                                                        "name": "later"}]
    assert [t["id"] for t in ok(fresh.get("/api/v1/chats/all/tags"))] == ["later"]
    assert ok(fresh.delete(f"/api/v1/chats/{two}/tags/all")) is True
    ok(fresh.delete(f"/api/v1/chats/{one}"))
    assert ok(fresh.get("/api/v1/chats/all/tags")) == []


def test_tag_named_none_is_refused(fresh) -> None:
    chat = create(fresh)["id"]
    refused = fresh.post(f"/api/v1/chats/{chat}/tags", json={"name": "None"})
    assert refused.status_code == 400 and "None" in refused.json()["detail"]
    assert fresh.post(f"/api/v1/chats/{chat}/tags", json={"name": ""}).status_code == 422


def test_nested_folders_move_rename_and_delete(fresh) -> None:
    top = ok(fresh.post("/api/v1/folders/", json={"name": "Projects", "meta": {"icon": "p"}}))
    assert top["parent_id"] is None and top["name"] == "Projects" and top["meta"] == {"icon": "p"}
    sub = ok(fresh.post("/api/v1/folders/", json={"name": "Owui", "parent_id": top["id"]}))
    deeper = ok(fresh.post("/api/v1/folders/", json={"name": "Chat", "parent_id": sub["id"]}))
    same = fresh.post("/api/v1/folders/", json={"name": "projects"})
    assert same.status_code == 409 and "projects" in same.json()["detail"]
    listed = ok(fresh.get("/api/v1/folders/"))
    assert {(f["name"], f["parent_id"]) for f in listed} == {
        ("Projects", None), ("Owui", top["id"]), ("Chat", sub["id"])}
    # No folder inside its own subtree.
    cycle = fresh.post(f"/api/v1/folders/{top['id']}/update/parent",
                       json={"parent_id": deeper["id"]})
    assert cycle.status_code == 400
    moved = ok(fresh.post(f"/api/v1/folders/{deeper['id']}/update/parent",
                          json={"parent_id": None}))
    assert moved["parent_id"] is None
    renamed = ok(fresh.post(f"/api/v1/folders/{sub['id']}/update", json={"name": "Renamed"}))
    assert renamed["name"] == "Renamed"
    assert ok(fresh.post(f"/api/v1/folders/{sub['id']}/update/expanded",
                         json={"is_expanded": True}))["is_expanded"] is True
    assert ok(fresh.get(f"/api/v1/folders/{sub['id']}"))["is_expanded"] is True

    kept = create(fresh, sample_chat("kept"), folder_id=sub["id"])
    dropped = create(fresh, sample_chat("dropped"))
    ok(fresh.post(f"/api/v1/chats/{dropped['id']}/folder", json={"folder_id": top["id"]}))
    in_top = ok(fresh.get(f"/api/v1/chats/folder/{top['id']}"))
    assert {c["id"] for c in in_top} == {kept["id"], dropped["id"]}
    assert [c["id"] for c in ok(fresh.get(f"/api/v1/chats/folder/{sub['id']}/list"))] == [
        kept["id"]]
    # Out of a folder again, then delete a folder keeping its chats, then one with them.
    ok(fresh.post(f"/api/v1/chats/{dropped['id']}/folder", json={"folder_id": None}))
    ok(fresh.post(f"/api/v1/chats/{dropped['id']}/folder", json={"folder_id": sub["id"]}))
    assert ok(fresh.delete(f"/api/v1/folders/{sub['id']}",
                           params={"delete_contents": False})) is True
    assert ok(fresh.get(f"/api/v1/chats/{kept['id']}"))["folder_id"] is None
    ok(fresh.post(f"/api/v1/chats/{kept['id']}/folder", json={"folder_id": top["id"]}))
    assert ok(fresh.delete(f"/api/v1/folders/{top['id']}")) is True
    assert fresh.get(f"/api/v1/chats/{kept['id']}").status_code == 404
    assert fresh.get(f"/api/v1/chats/{dropped['id']}").status_code == 200
    assert [f["id"] for f in ok(fresh.get("/api/v1/folders/"))] == [deeper["id"]]


def test_unknown_folder_is_404(fresh: httpx.Client) -> None:
    chat = create(fresh)["id"]
    assert fresh.post(f"/api/v1/chats/{chat}/folder",
                      json={"folder_id": "nope"}).status_code == 404
    assert fresh.post("/api/v1/chats/new", json={"chat": {}, "folder_id": "nope"}
                      ).status_code == 404
    assert fresh.post("/api/v1/folders/", json={"name": "x", "parent_id": "nope"}
                      ).status_code == 404
    assert fresh.post("/api/v1/folders/", json={"name": "x", "colour": "red"}
                      ).status_code == 422
