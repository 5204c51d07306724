"""Admin Panel > Functions (Open WebUI's `/api/v1/functions`) and the Action button under an
answer (`POST /api/chat/actions/{id}`, served by the agent service), checked against Open
WebUI's document. The world has the admin's filter `pass_through` (tests/webapp/world.py);
each call that changes something makes a function of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.support.procs import closed_port
from tests.webapp.world import MODEL, World, get, ok

FILTER = '''"""
title: Shouter
"""
from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0

    class UserValves(BaseModel):
        loud: bool = False

    def __init__(self):
        self.valves = self.Valves()

    def inlet(self, body: dict) -> dict:
        return body
'''
ACTION = '''"""
title: Summarise
"""


class Action:
    async def action(self, body: dict, __user__: dict = None, __id__: str = None) -> dict:
        return {"content": "summarised " + str(len(body.get("messages", []))) + " messages"}
'''
SHAPES = ("Open WebUI 0.12.4's function history (FunctionHistoryResponse / "
          "FunctionHistoryModel, function_diff)")
HISTORY_ENTRY = {"id": "", "function_id": "", "user_id": "", "created_at": 0}
DIFF = {"from_id": "", "to_id": "", "metadata": {}, "content_diff": "",
        "line_endings_only": False}
DETAIL = {"detail": ""}


def new_function(world: World, source: str = FILTER) -> str:
    function_id = f"fn_{uuid.uuid4().hex[:8]}"
    ok(world.client.post("/api/v1/functions/create", headers=world.bearer(), json={
        "id": function_id, "name": "Shouter", "content": source,
        "meta": {"description": "Loud"}}))
    return function_id


def edited(world: World, function_id: str) -> dict:
    return ok(world.client.post(f"/api/v1/functions/id/{function_id}/update",
                                headers=world.bearer(), json={
                                    "id": function_id, "name": "Shouter",
                                    "content": FILTER.replace("priority: int = 0",
                                                              "priority: int = 1"),
                                    "meta": {"description": "Loud"}}))


def versions(world: World, function_id: str) -> list[dict]:
    return ok(world.client.get(f"/api/v1/functions/id/{function_id}/history",
                               headers=world.bearer()))


def on_new(action: Callable[[World, str], httpx.Response]) -> Callable[[World], httpx.Response]:
    return lambda world: action(world, new_function(world))


def _get(path: str) -> Callable[[World, str], httpx.Response]:
    return lambda w, f: w.client.get(path.format(f), headers=w.bearer())


def _post(path: str, body: object = None) -> Callable[[World, str], httpx.Response]:
    return lambda w, f: w.client.post(path.format(f), headers=w.bearer(), json=body)


def _diff(world: World, function_id: str) -> httpx.Response:
    edited(world, function_id)
    found = versions(world, function_id)
    return world.client.get(f"/api/v1/functions/id/{function_id}/history/diff",
                            headers=world.bearer(),
                            params={"from_id": found[-1]["id"], "to_id": found[0]["id"]})


def _entry(world: World, function_id: str) -> httpx.Response:
    first = versions(world, function_id)[0]
    return world.client.get(f"/api/v1/functions/id/{function_id}/history/{first['id']}",
                            headers=world.bearer())


def _delete_old(world: World, function_id: str) -> httpx.Response:
    edited(world, function_id)
    oldest = versions(world, function_id)[-1]
    return world.client.delete(f"/api/v1/functions/id/{function_id}/history/{oldest['id']}",
                               headers=world.bearer())


def _back_to_first(world: World, function_id: str) -> httpx.Response:
    edited(world, function_id)
    oldest = versions(world, function_id)[-1]
    return world.client.post(f"/api/v1/functions/id/{function_id}/update/version",
                             headers=world.bearer(), json={"version_id": oldest["id"]})


def _create(world: World) -> httpx.Response:
    return world.client.post("/api/v1/functions/create", headers=world.bearer(), json={
        "id": f"fn_{uuid.uuid4().hex[:8]}", "name": "Shouter", "content": FILTER,
        "meta": {"description": "Loud"}})


def _sync_unchanged(world: World) -> httpx.Response:
    """Sync with what export gives: every function stays as it is."""
    current = ok(world.client.get("/api/v1/functions/export", headers=world.bearer(),
                                  params={"include_valves": "true"}))
    return world.client.post("/api/v1/functions/sync", headers=world.bearer(),
                             json={"functions": current})


def _action(world: World) -> httpx.Response:
    action_id = new_function(world, ACTION)
    ok(world.client.post(f"/api/v1/functions/id/{action_id}/toggle", headers=world.bearer()))
    return world.client.post(f"/api/chat/actions/{action_id}", headers=world.bearer(), json={
        "model": MODEL, "messages": [{"role": "user", "content": "hi"},
                                     {"role": "assistant", "content": "hello"}],
        "id": str(uuid.uuid4()), "chat_id": world.chat_id, "session_id": "no-socket"})


OPERATIONS: list[Operation] = [
    Operation("POST", "/api/v1/functions/create", "agent", Schema(), _create),
    Operation("GET", "/api/v1/functions/export", "agent", Schema(),
              get("/api/v1/functions/export")),
    Operation("GET", "/api/v1/functions/id/{id}", "agent", Schema(),
              get("/api/v1/functions/id/pass_through")),
    Operation("DELETE", "/api/v1/functions/id/{id}/delete", "agent", Schema(),
              on_new(lambda w, f: w.client.delete(f"/api/v1/functions/id/{f}/delete",
                                                  headers=w.bearer()))),
    Operation("GET", "/api/v1/functions/id/{id}/history", "agent",
              Shape([HISTORY_ENTRY], SHAPES), on_new(_get("/api/v1/functions/id/{}/history"))),
    Operation("GET", "/api/v1/functions/id/{id}/history/diff", "agent", Shape(DIFF, SHAPES),
              on_new(_diff)),
    Operation("GET", "/api/v1/functions/id/{id}/history/{history_id}", "agent",
              Shape({**HISTORY_ENTRY, "snapshot": {"name": "", "content": "", "meta": {}}},
                    SHAPES), on_new(_entry)),
    Operation("DELETE", "/api/v1/functions/id/{id}/history/{history_id}", "agent",
              Shape(True, SHAPES), on_new(_delete_old)),
    Operation("POST", "/api/v1/functions/id/{id}/toggle", "agent", Schema(),
              on_new(_post("/api/v1/functions/id/{}/toggle"))),
    Operation("POST", "/api/v1/functions/id/{id}/toggle/global", "agent", Schema(),
              on_new(_post("/api/v1/functions/id/{}/toggle/global"))),
    Operation("POST", "/api/v1/functions/id/{id}/update", "agent", Schema(),
              on_new(_post("/api/v1/functions/id/{}/update", {
                  "id": "shouter", "name": "Shouter 2", "content": FILTER,
                  "meta": {"description": "Louder"}}))),
    Operation("POST", "/api/v1/functions/id/{id}/update/version", "agent", Schema(),
              on_new(_back_to_first)),
    Operation("GET", "/api/v1/functions/id/{id}/valves", "agent", Schema(),
              on_new(_get("/api/v1/functions/id/{}/valves"))),
    Operation("GET", "/api/v1/functions/id/{id}/valves/spec", "agent", Schema(),
              on_new(_get("/api/v1/functions/id/{}/valves/spec"))),
    Operation("POST", "/api/v1/functions/id/{id}/valves/update", "agent", Schema(),
              on_new(_post("/api/v1/functions/id/{}/valves/update", {"priority": 3}))),
    Operation("GET", "/api/v1/functions/id/{id}/valves/user", "agent", Schema(),
              on_new(_get("/api/v1/functions/id/{}/valves/user"))),
    Operation("GET", "/api/v1/functions/id/{id}/valves/user/spec", "agent", Schema(),
              on_new(_get("/api/v1/functions/id/{}/valves/user/spec"))),
    Operation("POST", "/api/v1/functions/id/{id}/valves/user/update", "agent", Schema(),
              on_new(_post("/api/v1/functions/id/{}/valves/user/update", {"loud": True}))),
    Operation("POST", "/api/v1/functions/load/url", "agent",
              Shape({"name": "", "content": ""}, "Open WebUI's load_function_from_url"),
              lambda w: w.client.post("/api/v1/functions/load/url", headers=w.bearer(),
                                      json={"url": f"{w.stack.gateway}/shouter.py"})),
    Operation("POST", "/api/v1/functions/load/url", "agent", Shape(DETAIL, "HTTPException"),
              lambda w: w.client.post("/api/v1/functions/load/url", headers=w.bearer(), json={
                  "url": f"http://127.0.0.1:{closed_port()}/f.py"}),
              label="unreachable URL", status=400),
    Operation("POST", "/api/v1/functions/sync", "agent", Schema(), _sync_unchanged),
    Operation("POST", "/api/chat/actions/{action_id}", "agent",
              Shape({"content": ""}, "an action answers what its action() returns"), _action),
]
