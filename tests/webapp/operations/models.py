"""The Models page of the Workspace (Open WebUI's `/api/v1/models/*`) and the admin's base models,
as the web app calls them, checked against Open WebUI's document. Each call that changes a model
makes one of its own (the admin's); the world's preset is only read, and the one call that
deletes every model puts them all back afterwards (through sync)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

from tests.support.conformance import Layout, Operation, Sample, Schema, Shape
from tests.webapp.world import MODEL, PRESET, World, get, ok

Action = Callable[[World, dict], httpx.Response]
BASE_ENTRY = {"data": [{"id": "m", "object": "model", "created": 0, "owned_by": "openai",
                        "name": "m", "connection_type": "external", "urlIdx": 0}]}


def new_model(world: World, **extra: object) -> dict:
    return ok(world.client.post("/api/v1/models/create", headers=world.bearer(), json={
        "id": f"helper-{uuid.uuid4().hex[:8]}", "base_model_id": MODEL, "name": "Helper",
        "params": {"system": "Be brief."}, "access_grants": [],
        "meta": {"description": "A preset", "tags": [{"name": "demo"}]}, **extra}))


def on_new(action: Action) -> Callable[[World], httpx.Response]:
    return lambda world: action(world, new_model(world))


def _post(path: str, body: Callable[[dict], object] | None = None,
          **params: str) -> Action:
    return lambda w, m: w.client.post(path, headers=w.bearer(), json=body(m) if body else None,
                                      params={k: v.format(**m) for k, v in params.items()})


def _base_record(world: World) -> httpx.Response:
    """An admin's record for a provider's model (no base model of its own), then the list."""
    ok(world.client.post("/api/v1/models/create", headers=world.bearer(), json={
        "id": f"base-record-{uuid.uuid4().hex[:6]}", "name": "Renamed", "meta": {
            "tags": [{"name": "base"}]}, "params": {}}))
    return world.get("/api/v1/models/base")


def _edited(world: World, model: dict) -> dict:
    return ok(world.client.post("/api/v1/models/model/update", headers=world.bearer(), json={
        **model, "name": "Helper, edited", "commit_message": "renamed"}))


def _history_entry(world: World, model: dict) -> httpx.Response:
    return world.get(f"/api/v1/models/model/history/{model['version_id']}", id=model["id"])


def _delete_old_version(world: World, model: dict) -> httpx.Response:
    _edited(world, model)
    return world.client.delete(f"/api/v1/models/model/history/{model['version_id']}",
                               headers=world.bearer(), params={"id": model["id"]})


def _back_to_first(world: World, model: dict) -> httpx.Response:
    _edited(world, model)
    return world.client.post("/api/v1/models/model/update/version", headers=world.bearer(),
                             params={"id": model["id"]}, json={"version_id": model["version_id"]})


def _sync_with_one_more(world: World) -> httpx.Response:
    every = ok(world.get("/api/v1/models/all"))
    extra = {"id": f"synced-{uuid.uuid4().hex[:6]}", "name": "Synced", "base_model_id": MODEL,
             "meta": {}, "params": {}}
    return world.client.post("/api/v1/models/sync", headers=world.bearer(),
                             json={"models": [*every, extra]})


def _delete_all_then_restore(world: World) -> httpx.Response:
    every = ok(world.get("/api/v1/models/all"))
    answer = world.client.delete("/api/v1/models/delete/all", headers=world.bearer())
    ok(world.client.post("/api/v1/models/sync", headers=world.bearer(),
                         json={"models": every}))
    return answer


def _import_one(world: World) -> httpx.Response:
    return world.client.post("/api/v1/models/import", headers=world.bearer(), json={"models": [
        {"id": f"imported-{uuid.uuid4().hex[:6]}", "name": "Imported", "base_model_id": MODEL,
         "meta": {"description": "from an export"}, "params": {"system": "Hi."}}]})


ACTION_SOURCE = '''
class Action:
    async def action(self, body: dict) -> dict:
        return body
'''
SWITCH_SOURCE = '''
class Filter:
    def __init__(self):
        self.toggle = True

    def inlet(self, body: dict) -> dict:
        return body
'''
# Open WebUI 0.12.4's items of a model's `actions` and `filters` (utils/models.py: an action's
# buttons, a filter the user switches in the chat); its samples show both lists empty.
# An icon is null when the source names none (as these do).
WITH_FUNCTIONS = {"data": [{"id": "m", "actions": [
    {"id": "", "name": "", "description": "", "icon": None}], "filters": [
    {"id": "", "name": "", "description": "", "icon": None, "has_user_valves": False}]}]}
ONLY_SOME = "a model with no action or switchable filter of its own or global lists none"


def _function(world: World, source: str) -> str:
    function_id = f"fn_{uuid.uuid4().hex[:8]}"
    ok(world.client.post("/api/v1/functions/create", headers=world.bearer(), json={
        "id": function_id, "name": "Fn", "content": source, "meta": {"description": "d"}}))
    ok(world.client.post(f"/api/v1/functions/id/{function_id}/toggle", headers=world.bearer()))
    return function_id


def _with_functions(world: World) -> httpx.Response:
    """A model given an action and a switchable filter (its meta's actionIds, filterIds): the
    list, once it shows them (inference reads the agent's functions every couple of seconds)."""
    model = new_model(world, meta={"actionIds": [_function(world, ACTION_SOURCE)],
                                   "filterIds": [_function(world, SWITCH_SOURCE)]})
    deadline = time.monotonic() + 10
    while True:
        answer = world.get(M)
        entry = next(e for e in answer.json()["data"] if e["id"] == model["id"])
        if entry["actions"] and entry["filters"]:
            return answer
        assert time.monotonic() < deadline, f"no action and filter shown on {entry}"
        time.sleep(0.25)


M = "/api/v1/models"
OPERATIONS: list[Operation] = [
    Operation("GET", M, "inference", Shape(WITH_FUNCTIONS, "Open WebUI 0.12.4's model list"),
              _with_functions, label="a model with an action and a filter switch",
              layout=Layout(may_be_empty={"$.data[*].actions": ONLY_SOME,
                                          "$.data[*].filters": ONLY_SOME})),
    Operation("GET", "/api/v1/models", "inference", Sample("GET /api/models"), get(M)),
    Operation("GET", "/api/models/base", "inference",
              Shape(BASE_ENTRY, "Open WebUI's /api/models/base: {data: the providers' models, "
                                "as /api/models lists them, without presets}"),
              get("/api/models/base")),
    Operation("GET", f"{M}/base", "inference", Schema(), _base_record),
    Operation("GET", f"{M}/base/tags", "inference", Schema(), get(f"{M}/base/tags")),
    Operation("GET", f"{M}/all", "inference", Schema(), get(f"{M}/all")),
    Operation("GET", f"{M}/model", "inference", Schema(), get(f"{M}/model", id=PRESET)),
    Operation("POST", f"{M}/create", "inference", Schema(),
              lambda w: w.client.post(f"{M}/create", headers=w.bearer(), json={
                  "id": f"made-{uuid.uuid4().hex[:6]}", "base_model_id": MODEL, "name": "Made",
                  "meta": {"profile_image_url": "/static/favicon.png"},
                  "params": {"system": "Be kind."}, "access_grants": []})),
    Operation("POST", f"{M}/model/update", "inference", Schema(),
              on_new(_post(f"{M}/model/update", lambda m: {**m, "name": "Helper 2"}))),
    Operation("POST", f"{M}/model/toggle", "inference", Schema(),
              on_new(_post(f"{M}/model/toggle", id="{id}"))),
    Operation("POST", f"{M}/model/access/update", "inference", Schema(),
              on_new(_post(f"{M}/model/access/update", lambda m: {
                  "id": m["id"], "access_grants": [{"principal_type": "user",
                                                    "principal_id": "*",
                                                    "permission": "read"}]}))),
    Operation("POST", f"{M}/model/delete", "inference", Schema(),
              on_new(_post(f"{M}/model/delete", lambda m: {"id": m["id"]}))),
    Operation("GET", f"{M}/export", "inference", Schema(), get(f"{M}/export")),
    Operation("POST", f"{M}/import", "inference", Schema(), _import_one),
    Operation("POST", f"{M}/sync", "inference", Schema(), _sync_with_one_more),
    Operation("GET", f"{M}/model/history", "inference", Schema(),
              on_new(lambda w, m: (_edited(w, m), w.get(f"{M}/model/history", id=m["id"]))[1])),
    Operation("GET", f"{M}/model/history/{{history_id}}", "inference", Schema(),
              on_new(_history_entry)),
    Operation("DELETE", f"{M}/model/history/{{history_id}}", "inference", Schema(),
              on_new(_delete_old_version)),
    Operation("POST", f"{M}/model/update/version", "inference", Schema(),
              on_new(_back_to_first)),
    Operation("DELETE", f"{M}/delete/all", "inference", Schema(), _delete_all_then_restore),
]
