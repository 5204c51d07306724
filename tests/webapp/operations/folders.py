"""The sidebar's folders (Open WebUI's `/api/v1/folders`), as the web app calls them, checked
against Open WebUI's document: create, rename, nest and move, expand, share with another user
and read their shared folder's chats, mark read, delete. Each call makes a folder of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.operations.chats import new_chat
from tests.webapp.world import PASSWORD, World, ok

DETAIL = {"detail": ""}
PROTOCOL = "Open WebUI 0.12.4's routers/folders.py answer, read from its protocol"
# Open WebUI's FolderModel, as its folder routes answer one (made without meta or data).
FOLDER = {"id": "", "parent_id": None, "user_id": "", "name": "", "items": None, "meta": None,
          "data": None, "is_expanded": False, "created_at": 0, "updated_at": 0}
Action = Callable[[World, dict], httpx.Response]


def new_folder(world: World, parent_id: str | None = None) -> dict:
    return ok(world.client.post("/api/v1/folders/", headers=world.bearer(), json={
        "name": f"Folder {uuid.uuid4().hex[:6]}", "parent_id": parent_id}))


def on_new(action: Action) -> Callable[[World], httpx.Response]:
    return lambda world: action(world, new_folder(world))


def _call(method: str, path: str, body: object = None, **params: object) -> Action:
    return lambda w, f: w.client.request(method, path.format(**f), headers=w.bearer(),
                                         json=body, params=params or None)


def _reader(world: World) -> tuple[dict[str, str], str]:
    """Another account (its bearer header and id)."""
    account = ok(world.client.post("/api/v1/auths/signup", json={
        "name": "Rae", "email": f"rae-{uuid.uuid4().hex[:8]}@example.com",
        "password": PASSWORD}))
    return {"Authorization": f"Bearer {account['token']}"}, str(account["id"])


def _shared_with_reader(action: Callable[[World, dict, dict[str, str]], httpx.Response]
                        ) -> Callable[[World], httpx.Response]:
    """A folder of the admin's with a chat in it, shared read-only with another account."""
    def call(world: World) -> httpx.Response:
        folder = new_folder(world)
        chat = new_chat(world, "Minutes")
        ok(world.client.post(f"/api/v1/chats/{chat['id']}/folder", headers=world.bearer(),
                             json={"folder_id": folder["id"]}))
        headers, reader = _reader(world)
        ok(world.client.post(f"/api/v1/folders/{folder['id']}/access/update",
                             headers=world.bearer(), json={"access_grants": [
                                 {"principal_type": "user", "principal_id": reader,
                                  "permission": "read"}]}))
        return action(world, folder, headers)
    return call


def _nested(world: World, folder: dict) -> httpx.Response:
    other = new_folder(world)
    return world.client.post(f"/api/v1/folders/{folder['id']}/update/parent",
                             headers=world.bearer(), json={"parent_id": other["id"]})


def _into_child(world: World, folder: dict) -> httpx.Response:
    child = new_folder(world, folder["id"])
    return world.client.post(f"/api/v1/folders/{folder['id']}/update/parent",
                             headers=world.bearer(), json={"parent_id": child["id"]})


OPERATIONS: list[Operation] = [
    Operation("POST", "/api/v1/folders/", "chat", Shape(FOLDER, PROTOCOL),
              lambda w: w.client.post("/api/v1/folders/", headers=w.bearer(),
                                      json={"name": f"New {uuid.uuid4().hex[:6]}"})),
    Operation("GET", "/api/v1/folders/{id}", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/folders/{id}"))),
    Operation("GET", "/api/v1/folders/{id}", "chat", Shape(DETAIL, "HTTPException detail"),
              on_new(lambda w, f: w.client.get(f"/api/v1/folders/{f['id']}",
                                               headers=_reader(w)[0])),
              label="another user's", status=404),
    Operation("POST", "/api/v1/folders/{id}/update", "chat", Shape(FOLDER, PROTOCOL),
              on_new(_call("POST", "/api/v1/folders/{id}/update",
                           {"name": f"Renamed {uuid.uuid4().hex[:6]}"}))),
    Operation("POST", "/api/v1/folders/{id}/update/parent", "chat", Shape(
        {**FOLDER, "parent_id": ""}, PROTOCOL), on_new(_nested)),
    Operation("POST", "/api/v1/folders/{id}/update/parent", "chat",
              Shape(DETAIL, "HTTPException detail"), on_new(_into_child),
              label="into its own child", status=400),
    Operation("POST", "/api/v1/folders/{id}/update/expanded", "chat", Shape(FOLDER, PROTOCOL),
              on_new(_call("POST", "/api/v1/folders/{id}/update/expanded",
                           {"is_expanded": True}))),
    Operation("POST", "/api/v1/folders/{id}/access/update", "chat", Shape(
        {**FOLDER, "access_grants": []}, PROTOCOL),
        on_new(_call("POST", "/api/v1/folders/{id}/access/update", {"access_grants": []}))),
    Operation("GET", "/api/v1/folders/shared", "chat", Shape(
        [{**FOLDER, "owner_name": None, "permission": ""}], PROTOCOL),
        _shared_with_reader(lambda w, f, reader: w.client.get("/api/v1/folders/shared",
                                                              headers=reader)),
        label="a folder shared with the caller"),
    Operation("GET", "/api/v1/folders/{id}/shared/chats", "chat", Shape(
        {"chats": [{"id": "", "title": "", "updated_at": 0, "created_at": 0,
                    "user_id": "", "readonly": True}], "folder_permission": ""}, PROTOCOL),
        _shared_with_reader(lambda w, f, reader: w.client.get(
            f"/api/v1/folders/{f['id']}/shared/chats", headers=reader))),
    Operation("POST", "/api/v1/folders/{id}/read", "chat", Shape(
        {"folder_id": "", "folder_ids": [""], "updated_count": 0, "folder_unread_counts": {}},
        PROTOCOL), on_new(_call("POST", "/api/v1/folders/{id}/read"))),
    Operation("DELETE", "/api/v1/folders/{id}", "chat", Shape(True, PROTOCOL),
              on_new(_call("DELETE", "/api/v1/folders/{id}"))),
]
