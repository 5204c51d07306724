"""The Tools pages of the Workspace (Open WebUI's `/api/v1/tools`): the editor (create, edit,
versions, valves, import from a link, export), as the web app calls them, checked against Open
WebUI's document. The world has the admin's tool `clock` (tests/webapp/world.py); each call that
changes something makes a tool of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.support.procs import closed_port
from tests.webapp.world import World, fresh_user, get, ok

SOURCE = '''"""
title: Greeter
"""
from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        greeting: str = "Hello"

    class UserValves(BaseModel):
        name: str = "friend"

    def __init__(self):
        self.valves = self.Valves()

    def greet(self, who: str, __user__: dict = None) -> str:
        """
        Greet someone.
        :param who: Whom to greet.
        """
        return f"{self.valves.greeting}, {who}"
'''
SHAPES = "Open WebUI 0.12.4's tool history (ToolHistoryResponse / ToolHistoryModel, tool_diff)"
HISTORY_ENTRY = {"id": "", "tool_id": "", "user_id": "", "created_at": 0}
DIFF = {"from_id": "", "to_id": "", "metadata": {}, "content_diff": "",
        "line_endings_only": False}
DETAIL = {"detail": ""}


def new_tool(world: World, **extra: object) -> str:
    """A new tool of the admin's; its id."""
    tool_id = f"greeter_{uuid.uuid4().hex[:8]}"
    ok(world.client.post("/api/v1/tools/create", headers=world.bearer(), json={
        "id": tool_id, "name": "Greeter", "content": SOURCE, "meta": {"description": "Hi"},
        **extra}))
    return tool_id


def edited(world: World, tool_id: str, greeting: str) -> dict:
    """The tool saved again with another source: a new version."""
    return ok(world.client.post(f"/api/v1/tools/id/{tool_id}/update", headers=world.bearer(),
                                json={"id": tool_id, "name": "Greeter",
                                      "content": SOURCE.replace('"Hello"', f'"{greeting}"'),
                                      "meta": {"description": "Hi"},
                                      "commit_message": f"say {greeting}"}))


def versions(world: World, tool_id: str) -> list[dict]:
    return ok(world.client.get(f"/api/v1/tools/id/{tool_id}/history", headers=world.bearer()))


def on_new(action: Callable[[World, str], httpx.Response]) -> Callable[[World], httpx.Response]:
    return lambda world: action(world, new_tool(world))


def _post(path: str, body: object) -> Callable[[World, str], httpx.Response]:
    return lambda w, t: w.client.post(path.format(t), headers=w.bearer(), json=body)


def _history_diff(world: World, tool_id: str) -> httpx.Response:
    edited(world, tool_id, "Hi")
    newest, oldest = versions(world, tool_id)[0], versions(world, tool_id)[-1]
    return world.client.get(f"/api/v1/tools/id/{tool_id}/history/diff", headers=world.bearer(),
                            params={"from_id": oldest["id"], "to_id": newest["id"]})


def _history_entry(world: World, tool_id: str) -> httpx.Response:
    first = versions(world, tool_id)[0]
    return world.client.get(f"/api/v1/tools/id/{tool_id}/history/{first['id']}",
                            headers=world.bearer())


def _delete_old_version(world: World, tool_id: str) -> httpx.Response:
    edited(world, tool_id, "Hi")
    oldest = versions(world, tool_id)[-1]
    return world.client.delete(f"/api/v1/tools/id/{tool_id}/history/{oldest['id']}",
                               headers=world.bearer())


def _back_to_first(world: World, tool_id: str) -> httpx.Response:
    edited(world, tool_id, "Hi")
    oldest = versions(world, tool_id)[-1]
    return world.client.post(f"/api/v1/tools/id/{tool_id}/update/version",
                             headers=world.bearer(), json={"version_id": oldest["id"]})


def _create(world: World) -> httpx.Response:
    return world.client.post("/api/v1/tools/create", headers=world.bearer(), json={
        "id": f"greeter_{uuid.uuid4().hex[:8]}", "name": "Greeter", "content": SOURCE,
        "meta": {"description": "Hi"}})


def _broken_source(world: World) -> httpx.Response:
    return world.client.post("/api/v1/tools/create", headers=world.bearer(), json={
        "id": f"broken_{uuid.uuid4().hex[:8]}", "name": "Broken",
        "content": "import no_such_module_here\n\nclass Tools:\n    pass\n", "meta": {}})


def _unreachable(world: World) -> httpx.Response:
    return world.client.post("/api/v1/tools/load/url", headers=world.bearer(), json={
        "url": f"http://127.0.0.1:{closed_port()}/tool.py"})


def _reachable(world: World) -> httpx.Response:
    """A URL that answers (the gateway's own single-page fallback): its text, to edit."""
    return world.client.post("/api/v1/tools/load/url", headers=world.bearer(), json={
        "url": f"{world.stack.gateway}/greeter.py"})


def _another_users(world: World, path: str) -> httpx.Response:
    """A user who cannot see the admin's private tool: as if it did not exist."""
    tool_id = new_tool(world, access_grants=[])
    return world.client.get(path.format(tool_id), headers=fresh_user(world))


OPERATIONS: list[Operation] = [
    Operation("POST", "/api/v1/tools/create", "agent", Schema(), _create),
    Operation("POST", "/api/v1/tools/create", "agent", Shape(DETAIL, "HTTPException detail"),
              _broken_source, label="source that does not import", status=400),
    Operation("GET", "/api/v1/tools/export", "agent", Schema(), get("/api/v1/tools/export")),
    Operation("GET", "/api/v1/tools/id/{id}", "agent", Schema(), get("/api/v1/tools/id/clock")),
    Operation("GET", "/api/v1/tools/id/{id}", "agent", Shape(DETAIL, "HTTPException detail"),
              lambda w: _another_users(w, "/api/v1/tools/id/{}"), label="another user's",
              status=404),
    Operation("POST", "/api/v1/tools/id/{id}/access/update", "agent", Schema(),
              on_new(_post("/api/v1/tools/id/{}/access/update", {"access_grants": [
                  {"principal_type": "user", "principal_id": "*", "permission": "read"}]}))),
    Operation("DELETE", "/api/v1/tools/id/{id}/delete", "agent", Schema(),
              on_new(lambda w, t: w.client.delete(f"/api/v1/tools/id/{t}/delete",
                                                  headers=w.bearer()))),
    Operation("GET", "/api/v1/tools/id/{id}/history", "agent", Shape([HISTORY_ENTRY], SHAPES),
              on_new(lambda w, t: w.client.get(f"/api/v1/tools/id/{t}/history",
                                               headers=w.bearer()))),
    Operation("GET", "/api/v1/tools/id/{id}/history/diff", "agent", Shape(DIFF, SHAPES),
              on_new(_history_diff)),
    Operation("GET", "/api/v1/tools/id/{id}/history/{history_id}", "agent",
              Shape({**HISTORY_ENTRY, "snapshot": {"name": "", "content": "", "meta": {}}},
                    SHAPES), on_new(_history_entry)),
    Operation("DELETE", "/api/v1/tools/id/{id}/history/{history_id}", "agent",
              Shape(True, SHAPES), on_new(_delete_old_version)),
    Operation("GET", "/api/v1/tools/id/{id}/specs", "agent",
              Shape([{"name": "", "description": "", "parameters": {}}],
                    "OpenAI function specs, as Open WebUI's get_tool_specs"),
              get("/api/v1/tools/id/clock/specs")),
    Operation("POST", "/api/v1/tools/id/{id}/update", "agent", Schema(),
              on_new(_post("/api/v1/tools/id/{}/update", {
                  "id": "greeter", "name": "Greeter", "content": SOURCE.replace("Hello", "Hey"),
                  "meta": {"description": "Hi"}, "commit_message": "say Hey"}))),
    Operation("POST", "/api/v1/tools/id/{id}/update/version", "agent", Schema(),
              on_new(_back_to_first)),
    Operation("GET", "/api/v1/tools/id/{id}/valves", "agent", Schema(),
              on_new(lambda w, t: w.client.get(f"/api/v1/tools/id/{t}/valves",
                                               headers=w.bearer()))),
    Operation("GET", "/api/v1/tools/id/{id}/valves/spec", "agent", Schema(),
              on_new(lambda w, t: w.client.get(f"/api/v1/tools/id/{t}/valves/spec",
                                               headers=w.bearer()))),
    Operation("POST", "/api/v1/tools/id/{id}/valves/update", "agent", Schema(),
              on_new(_post("/api/v1/tools/id/{}/valves/update", {"greeting": "Hey"}))),
    Operation("GET", "/api/v1/tools/id/{id}/valves/user", "agent", Schema(),
              on_new(lambda w, t: w.client.get(f"/api/v1/tools/id/{t}/valves/user",
                                               headers=w.bearer()))),
    Operation("GET", "/api/v1/tools/id/{id}/valves/user/spec", "agent", Schema(),
              on_new(lambda w, t: w.client.get(f"/api/v1/tools/id/{t}/valves/user/spec",
                                               headers=w.bearer()))),
    Operation("POST", "/api/v1/tools/id/{id}/valves/user/update", "agent", Schema(),
              on_new(_post("/api/v1/tools/id/{}/valves/user/update", {"name": "Ada"}))),
    Operation("POST", "/api/v1/tools/load/url", "agent",
              Shape({"name": "", "content": ""}, "Open WebUI's load_tool_from_url"), _reachable),
    Operation("POST", "/api/v1/tools/load/url", "agent", Shape(DETAIL, "HTTPException detail"),
              _unreachable, label="unreachable URL", status=400),
]
