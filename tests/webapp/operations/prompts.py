"""The Prompts page of the Workspace and the chat input's `/` menu (Open WebUI's
`/api/v1/prompts`), as the web app calls them, checked against Open WebUI's document. Each call
that needs a prompt makes one of its own (the admin's)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import World, fresh_user, ok

DETAIL = {"detail": ""}
DIFF = {"from_id": "", "to_id": "", "from_snapshot": {}, "to_snapshot": {},
        "content_diff": [""], "line_endings_only": False, "name_changed": False}
DIFF_SOURCE = "Open WebUI 0.12.4's prompt history diff (prompt_history.compute_diff)"
Action = Callable[[World, dict], httpx.Response]


def new_prompt(world: World, **extra: object) -> dict:
    command = f"summarize-{uuid.uuid4().hex[:8]}"
    return ok(world.client.post("/api/v1/prompts/create", headers=world.bearer(), json={
        "command": command, "name": "Summarize", "content": "Summarize: {{CLIPBOARD}}",
        "tags": ["writing"], "meta": {"description": "Short"}, **extra}))


def edited(world: World, prompt: dict, content: str = "In one line: {{CLIPBOARD}}") -> dict:
    return ok(world.client.post(f"/api/v1/prompts/id/{prompt['id']}/update",
                                headers=world.bearer(), json={
                                    "command": prompt["command"], "name": "Summarize briefly",
                                    "content": content, "tags": ["writing"],
                                    "commit_message": "shorter"}))


def on_new(action: Action) -> Callable[[World], httpx.Response]:
    return lambda world: action(world, new_prompt(world))


def _versions(world: World, prompt: dict) -> list[dict]:
    return ok(world.client.get(f"/api/v1/prompts/id/{prompt['id']}/history",
                               headers=world.bearer()))


def _get(path: str) -> Action:
    return lambda w, p: w.client.get(path.format(**p), headers=w.bearer())


def _post(path: str, body: Callable[[dict], object] | None = None) -> Action:
    return lambda w, p: w.client.post(path.format(**p), headers=w.bearer(),
                                      json=body(p) if body else None)


def _diff(world: World, prompt: dict) -> httpx.Response:
    now = edited(world, prompt)
    return world.client.get(f"/api/v1/prompts/id/{prompt['id']}/history/diff",
                            headers=world.bearer(),
                            params={"from_id": prompt["version_id"], "to_id": now["version_id"]})


def _back_to_first(world: World, prompt: dict) -> httpx.Response:
    edited(world, prompt)
    return world.client.post(f"/api/v1/prompts/id/{prompt['id']}/update/version",
                             headers=world.bearer(), json={"version_id": prompt["version_id"]})


def _delete_old_version(world: World, prompt: dict) -> httpx.Response:
    edited(world, prompt)
    return world.client.delete(
        f"/api/v1/prompts/id/{prompt['id']}/history/{prompt['version_id']}",
        headers=world.bearer())


def _another_users(world: World, prompt: dict) -> httpx.Response:
    return world.client.get(f"/api/v1/prompts/id/{prompt['id']}", headers=fresh_user(world))


def _listed(path: str, **params: str) -> Callable[[World], httpx.Response]:
    """A list read once the admin has a prompt: the list is not compared empty."""
    def call(world: World) -> httpx.Response:
        new_prompt(world)
        return world.client.get(path, params=params, headers=world.bearer())
    return call


def _create(world: World) -> httpx.Response:
    return world.client.post("/api/v1/prompts/create", headers=world.bearer(), json={
        "command": f"translate-{uuid.uuid4().hex[:8]}", "name": "Translate",
        "content": "Translate to French: {{CLIPBOARD}}", "tags": ["language"]})


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/prompts/", "chat", Schema(), _listed("/api/v1/prompts/"),
              label="the / menu, with a prompt"),
    Operation("GET", "/api/v1/prompts/list", "chat", Schema(),
              _listed("/api/v1/prompts/list", page="1"), label="with a prompt"),
    Operation("GET", "/api/v1/prompts/tags", "chat", Schema(), _listed("/api/v1/prompts/tags"),
              label="with a tagged prompt"),
    Operation("POST", "/api/v1/prompts/create", "chat", Schema(), _create),
    Operation("GET", "/api/v1/prompts/id/{prompt_id}", "chat", Schema(),
              on_new(_get("/api/v1/prompts/id/{id}"))),
    Operation("GET", "/api/v1/prompts/id/{prompt_id}", "chat",
              Shape(DETAIL, "HTTPException detail"), on_new(_another_users),
              label="another user's", status=404),
    Operation("POST", "/api/v1/prompts/id/{prompt_id}/update", "chat", Schema(),
              on_new(_post("/api/v1/prompts/id/{id}/update", lambda p: {
                  "command": p["command"], "name": "Summarize briefly",
                  "content": "In one line: {{CLIPBOARD}}", "commit_message": "shorter"}))),
    Operation("POST", "/api/v1/prompts/id/{prompt_id}/update/meta", "chat", Schema(),
              on_new(_post("/api/v1/prompts/id/{id}/update/meta", lambda p: {
                  "name": "Renamed", "command": p["command"] + "-x", "tags": ["renamed"]}))),
    Operation("POST", "/api/v1/prompts/id/{prompt_id}/update/version", "chat", Schema(),
              on_new(_back_to_first)),
    Operation("POST", "/api/v1/prompts/id/{prompt_id}/access/update", "chat", Schema(),
              on_new(_post("/api/v1/prompts/id/{id}/access/update",
                           lambda p: {"access_grants": []})), label="private"),
    Operation("POST", "/api/v1/prompts/id/{prompt_id}/toggle", "chat", Schema(),
              on_new(_post("/api/v1/prompts/id/{id}/toggle"))),
    Operation("DELETE", "/api/v1/prompts/id/{prompt_id}/delete", "chat", Schema(),
              on_new(lambda w, p: w.client.delete(f"/api/v1/prompts/id/{p['id']}/delete",
                                                  headers=w.bearer()))),
    Operation("GET", "/api/v1/prompts/id/{prompt_id}/history", "chat", Schema(),
              on_new(_get("/api/v1/prompts/id/{id}/history"))),
    Operation("GET", "/api/v1/prompts/id/{prompt_id}/history/diff", "chat",
              Shape(DIFF, DIFF_SOURCE), on_new(_diff)),
    Operation("GET", "/api/v1/prompts/id/{prompt_id}/history/{history_id}", "chat", Schema(),
              on_new(_get("/api/v1/prompts/id/{id}/history/{version_id}"))),
    Operation("DELETE", "/api/v1/prompts/id/{prompt_id}/history/{history_id}", "chat",
              Schema(), on_new(_delete_old_version)),
]
