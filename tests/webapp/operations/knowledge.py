"""The Knowledge pages of the Workspace (Open WebUI's `/api/v1/knowledge`), as the 0.12 web app
calls them, checked against Open WebUI's document: the paged lists and searches, a collection
with files uploaded into it the app's way (`metadata.knowledge_id`, one in a folder), its
files, folders, reset, sync and export. Each call that changes something makes its own
collection; the shared one (`shelf`) is made once per world and only read."""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import World, get, ok

KB = "/api/v1/knowledge"
_SHELVES: dict[int, dict[str, Any]] = {}


def collection(world: World, name: str = "Shelf") -> dict[str, Any]:
    return ok(world.client.post(f"{KB}/create", headers=world.bearer(), json={
        "name": f"{name} {uuid.uuid4().hex[:6]}", "description": "conformance"}))


def upload(world: World, name: str, text: str, **metadata: Any) -> dict[str, Any]:
    """As the app uploads: multipart with a JSON `metadata` field."""
    return ok(world.client.post("/api/v1/files/", headers=world.bearer(),
                                files={"file": (name, text.encode())},
                                data={"metadata": json.dumps(metadata)}))


def linked(world: World, knowledge_id: str, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        files = ok(world.get(f"{KB}/{knowledge_id}/files"))
        if files["total"] >= count:
            return
        time.sleep(0.3)
    raise AssertionError(f"collection {knowledge_id} never held {count} files")


def filled(world: World, name: str = "Filled") -> dict[str, Any]:
    """A collection with a folder and two files (one in the folder), both processed."""
    knowledge = collection(world, name)
    folder = ok(world.client.post(f"{KB}/{knowledge['id']}/dirs/create",
                                  headers=world.bearer(), json={"name": "notes"}))
    top = upload(world, "owls.md", "# Owls\n\nOwls hunt at night.", knowledge_id=knowledge["id"])
    inner = upload(world, "bats.txt", "Bats sleep by day.", knowledge_id=knowledge["id"],
                   directory_id=folder["id"])
    linked(world, knowledge["id"], 2)
    return {"knowledge": knowledge, "folder": folder, "files": [top, inner]}


def shelf(world: World) -> dict[str, Any]:
    if id(world) not in _SHELVES:
        _SHELVES[id(world)] = filled(world, "Shelf")
    return _SHELVES[id(world)]


def on_shelf(method: str, suffix: str, **kwargs: Any) -> Callable[[World], httpx.Response]:
    def call(world: World) -> httpx.Response:
        path = f"{KB}/{shelf(world)['knowledge']['id']}{suffix}"
        return world.client.request(method, path, headers=world.bearer(), **kwargs)
    return call


def on_new(method: str, suffix: str, body: Callable[[dict[str, Any]], Any] | None = None,
           **params: Any) -> Callable[[World], httpx.Response]:
    """On a freshly filled collection of its own (the call changes it)."""
    def call(world: World) -> httpx.Response:
        made = filled(world)
        path = f"{KB}/{made['knowledge']['id']}{suffix.format(dir=made['folder']['id'])}"
        payload = body(made) if body else None
        return world.client.request(method, path, headers=world.bearer(), json=payload,
                                    params=params)
    return call


def _added(world: World) -> httpx.Response:
    knowledge = collection(world, "Added")
    file = upload(world, "added.txt", "Added by id.")
    return world.client.post(f"{KB}/{knowledge['id']}/file/add", headers=world.bearer(),
                             json={"file_id": file["id"]})


def _batch(world: World) -> httpx.Response:
    knowledge = collection(world, "Batch")
    files = [upload(world, f"b{i}.txt", f"Batch file {i}.") for i in range(2)]
    return world.client.post(f"{KB}/{knowledge['id']}/files/batch/add", headers=world.bearer(),
                             json=[{"file_id": f["id"]} for f in files])


EXTERNAL = f"{KB}/external/connections"
CONNECTION = {"name": "Archive", "provider": "qdrant", "endpoint": "http://qdrant.internal:6333"}
CONNECTION_SHAPE = {"id": "", "name": "", "provider": "", "endpoint": "", "config": {},
                    "capabilities": {}, "enabled": True, "created_by": "", "created_at": 0,
                    "updated_at": 0, "auth_configured": False}
EXTERNAL_SOURCE = "Open WebUI's external knowledge connections (sanitized: auth_configured)"


def connection(world: World) -> str:
    return str(ok(world.client.post(EXTERNAL, headers=world.bearer(), json=CONNECTION))["id"])


def on_connection(method: str, suffix: str = "",
                  body: dict[str, Any] | None = None) -> Callable[[World], httpx.Response]:
    def call(world: World) -> httpx.Response:
        return world.client.request(method, f"{EXTERNAL}/{connection(world)}{suffix}",
                                    headers=world.bearer(), json=body)
    return call


# A source kept in an external store: a Qdrant collection in qdrant-client's local mode (no
# Qdrant server can run here), filled here with vectors of the stack's embedding size (the
# fake provider's 8), as another system would fill it. Made once per world.
_QDRANT: dict[int, tempfile.TemporaryDirectory[str]] = {}
FOUND_SHAPE = {"documents": [""], "metadatas": [{"name": "", "knowledge_id": "",
                                                 "file_id": "", "external": True}],
               "distances": [0.0]}
FOUND_SOURCE = "Open WebUI's external source test: the documents found, their metadata, scores"


def qdrant_connection(world: World) -> dict[str, Any]:
    if id(world) not in _QDRANT:
        from qdrant_client import QdrantClient, models

        folder = tempfile.TemporaryDirectory(prefix="owui-external-qdrant-")
        client = QdrantClient(path=folder.name)
        client.create_collection("test", vectors_config=models.VectorParams(
            size=8, distance=models.Distance.COSINE))
        client.upsert("test", [models.PointStruct(id=i, vector=[1.0 + i, 1.0, 0.5, 0.2, 0.1,
                                                                 0.3, 0.7, 0.9],
                                                  payload={"text": text})
                               for i, text in enumerate(["Owls hunt at night.",
                                                         "Bats sleep by day."])])
        client.close()
        _QDRANT[id(world)] = folder
    return {"name": "Owl archive", "provider": "qdrant",
            "endpoint": f"file:{_QDRANT[id(world)].name}"}


QDRANT_SOURCE = {"type": "collection", "name": "test", "config": {"content_field": "payload.text"}}


def _stored_qdrant(world: World) -> str:
    return str(ok(world.client.post(EXTERNAL, headers=world.bearer(),
                                    json=qdrant_connection(world)))["id"])


def _external_source(world: World, name: str = "Owl notes") -> dict[str, Any]:
    return {"name": name, "connection": qdrant_connection(world), "source": QDRANT_SOURCE,
            "test_query": "owls"}


def _made_source(world: World) -> httpx.Response:
    return world.client.post(f"{KB}/external/source/create", headers=world.bearer(),
                             json=_external_source(world))


def _changed_source(world: World) -> httpx.Response:
    made = ok(_made_source(world))
    return world.client.patch(f"{KB}/external/source/{made['id']}", headers=world.bearer(),
                              json=_external_source(world, "Renamed owl notes"))


def first_file(made: dict[str, Any]) -> dict[str, str]:
    return {"file_id": made["files"][0]["id"]}


OPERATIONS: list[Operation] = [
    Operation("GET", f"{KB}/", "retrieval", Schema(), get(f"{KB}/", page="1")),
    Operation("GET", f"{KB}/search", "retrieval", Schema(),
              lambda w: (shelf(w), w.get(f"{KB}/search", query="Shelf", page="1"))[1],
              label="a query"),
    Operation("GET", f"{KB}/search/files", "retrieval", Schema(),
              lambda w: (shelf(w), w.get(f"{KB}/search/files", query="owls"))[1]),
    Operation("POST", f"{KB}/create", "retrieval", Schema(),
              lambda w: w.client.post(f"{KB}/create", headers=w.bearer(),
                                      json={"name": "Made", "description": "d"})),
    Operation("GET", f"{KB}/{{id}}", "retrieval", Schema(), on_shelf("GET", "")),
    Operation("POST", f"{KB}/{{id}}/update", "retrieval", Schema(),
              on_new("POST", "/update", lambda m: {"name": "Renamed", "description": "x"})),
    Operation("POST", f"{KB}/{{id}}/access/update", "retrieval", Schema(),
              on_new("POST", "/access/update", lambda m: {"access_grants": []})),
    Operation("GET", f"{KB}/{{id}}/files", "retrieval", Schema(),
              on_shelf("GET", "/files", params={"page": 1})),
    Operation("GET", f"{KB}/{{id}}/files", "retrieval", Schema(),
              lambda w: w.get(f"{KB}/{shelf(w)['knowledge']['id']}/files",
                              directory_id=shelf(w)["folder"]["id"]),
              label="in a folder"),
    Operation("GET", f"{KB}/{{id}}/files/pending", "retrieval",
              Shape([], "Open WebUI's pending files: a list of FileModelResponse, empty once "
                    "processed"), on_shelf("GET", "/files/pending")),
    Operation("POST", f"{KB}/{{id}}/file/add", "retrieval", Schema(), _added),
    Operation("POST", f"{KB}/{{id}}/files/batch/add", "retrieval", Schema(), _batch),
    Operation("POST", f"{KB}/{{id}}/file/update", "retrieval", Schema(),
              on_new("POST", "/file/update", first_file)),
    Operation("POST", f"{KB}/{{id}}/file/move", "retrieval",
              Shape({"status": True}, "Open WebUI's move_file_in_knowledge answers "
                    "{status: true}"),
              on_new("POST", "/file/move",
                     lambda m: {**first_file(m), "directory_id": m["folder"]["id"]})),
    Operation("POST", f"{KB}/{{id}}/file/remove", "retrieval", Schema(),
              on_new("POST", "/file/remove", first_file)),
    Operation("POST", f"{KB}/{{id}}/reset", "retrieval", Schema(), on_new("POST", "/reset")),
    Operation("POST", f"{KB}/{{id}}/dirs/create", "retrieval", Schema(),
              on_new("POST", "/dirs/create", lambda m: {"name": "more"})),
    Operation("POST", f"{KB}/{{id}}/dirs/{{dir_id}}/update", "retrieval", Schema(),
              on_new("POST", "/dirs/{dir}/update", lambda m: {"name": "renamed"})),
    Operation("DELETE", f"{KB}/{{id}}/dirs/{{dir_id}}/delete", "retrieval",
              Shape({"status": True, "file_ids": [""]},
                    "Open WebUI's delete_knowledge_directory answers {status, file_ids}"),
              on_new("DELETE", "/dirs/{dir}/delete")),
    Operation("POST", f"{KB}/{{id}}/sync/diff", "retrieval", Schema(),
              on_new("POST", "/sync/diff", lambda m: {"manifest": [
                  {"filename": "owls.md", "path": "", "checksum": "changed", "size": 1}]})),
    Operation("POST", f"{KB}/{{id}}/sync/cleanup", "retrieval",
              Shape({"status": True}, "Open WebUI's sync_knowledge_cleanup answers "
                    "{status: true}"),
              on_new("POST", "/sync/cleanup", lambda m: {"file_ids": [m["files"][1]["id"]]})),
    Operation("POST", f"{KB}/reindex", "retrieval", Schema(),
              lambda w: w.client.post(f"{KB}/reindex", headers=w.bearer())),
    Operation("DELETE", f"{KB}/{{id}}/delete", "retrieval", Schema(),
              lambda w: w.client.delete(f"{KB}/{collection(w, 'Gone')['id']}/delete",
                                        headers=w.bearer())),
    Operation("GET", EXTERNAL, "retrieval", Schema(),
              lambda w: (connection(w), w.get(EXTERNAL))[1]),
    Operation("POST", EXTERNAL, "retrieval", Shape(CONNECTION_SHAPE, EXTERNAL_SOURCE),
              lambda w: w.client.post(EXTERNAL, headers=w.bearer(), json=CONNECTION)),
    Operation("GET", f"{EXTERNAL}/{{id}}", "retrieval",
              Shape(CONNECTION_SHAPE, EXTERNAL_SOURCE), on_connection("GET")),
    Operation("PATCH", f"{EXTERNAL}/{{id}}", "retrieval",
              Shape(CONNECTION_SHAPE, EXTERNAL_SOURCE),
              on_connection("PATCH", body={**CONNECTION, "name": "Renamed"})),
    Operation("POST", f"{EXTERNAL}/{{id}}/test", "retrieval",
              Shape({"ok": True, "provider": "", "checked_at": 0}, EXTERNAL_SOURCE),
              on_connection("POST", "/test")),
    Operation("DELETE", f"{EXTERNAL}/{{id}}", "retrieval", Schema(), on_connection("DELETE")),
    Operation("POST", f"{EXTERNAL}/{{id}}/retrieve-test", "retrieval",
              Shape(FOUND_SHAPE, FOUND_SOURCE),
              lambda w: w.client.post(f"{EXTERNAL}/{_stored_qdrant(w)}/retrieve-test",
                                      headers=w.bearer(), json={"query": "owls"})),
    Operation("POST", f"{KB}/external/source/test", "retrieval", Shape(FOUND_SHAPE, FOUND_SOURCE),
              lambda w: w.client.post(f"{KB}/external/source/test", headers=w.bearer(), json={
                  "connection": qdrant_connection(w), "source": QDRANT_SOURCE,
                  "query": "owls"})),
    Operation("POST", f"{KB}/external/knowledge/create", "retrieval", Schema(),
              lambda w: w.client.post(f"{KB}/external/knowledge/create", headers=w.bearer(),
                                      json={"name": "Owls", "connection_id": _stored_qdrant(w),
                                            "source": QDRANT_SOURCE})),
    Operation("POST", f"{KB}/external/source/create", "retrieval", Schema(), _made_source),
    Operation("PATCH", f"{KB}/external/source/{{id}}", "retrieval", Schema(), _changed_source),
    Operation("POST", f"{KB}/metadata/reindex", "retrieval",
              Shape({"total": 0, "success": 0}, "Open WebUI's reindex of the collections' "
                    "metadata embeddings answers {total, success}"),
              lambda w: w.client.post(f"{KB}/metadata/reindex", headers=w.bearer())),
]
