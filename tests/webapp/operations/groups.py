"""Admin Panel > Users > Groups (`/api/v1/groups`), as the web app calls it, checked against
Open WebUI's document. Each call works on a group of its own, made by the admin with one member
(the plain account), so that no list is compared empty."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema
from tests.webapp.world import World, ok

Action = Callable[[World, dict], httpx.Response]


def with_group(action: Action) -> Callable[[World], httpx.Response]:
    def call(world: World) -> httpx.Response:
        group = ok(world.client.post("/api/v1/groups/create", headers=world.bearer(), json={
            "name": f"Group {uuid.uuid4().hex[:6]}", "description": "conformance",
            "permissions": {"workspace": {"models": True}}}))
        ok(world.client.post(f"/api/v1/groups/id/{group['id']}/users/add",
                             headers=world.bearer(), json={"user_ids": [world.plain_user_id]}))
        return action(world, group)
    return call


def _get(path: str) -> Action:
    return lambda w, g: w.client.get(path.format(**g), headers=w.bearer())


def _post(path: str, body: Callable[[World], object]) -> Action:
    return lambda w, g: w.client.post(path.format(**g), headers=w.bearer(), json=body(w))


def _users(world: World) -> dict:
    return {"user_ids": [world.plain_user_id]}


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/groups/", "gateway", Schema(), with_group(_get("/api/v1/groups/")),
              label="with a group"),
    Operation("POST", "/api/v1/groups/create", "gateway", Schema(),
              lambda w: w.client.post("/api/v1/groups/create", headers=w.bearer(), json={
                  "name": "Readers", "description": "may read", "permissions": {}})),
    Operation("GET", "/api/v1/groups/id/{id}", "gateway", Schema(),
              with_group(_get("/api/v1/groups/id/{id}"))),
    Operation("GET", "/api/v1/groups/id/{id}/info", "gateway", Schema(),
              with_group(_get("/api/v1/groups/id/{id}/info"))),
    Operation("GET", "/api/v1/groups/id/{id}/export", "gateway", Schema(),
              with_group(_get("/api/v1/groups/id/{id}/export"))),
    Operation("GET", "/api/v1/groups/id/{id}/members", "gateway", Schema(),
              with_group(_get("/api/v1/groups/id/{id}/members"))),
    Operation("POST", "/api/v1/groups/id/{id}/users", "gateway", Schema(),
              with_group(_post("/api/v1/groups/id/{id}/users", lambda w: None))),
    Operation("POST", "/api/v1/groups/id/{id}/update", "gateway", Schema(),
              with_group(_post("/api/v1/groups/id/{id}/update", lambda w: {
                  "name": "Renamed", "description": "new words",
                  "permissions": {"chat": {"delete": False}}}))),
    Operation("POST", "/api/v1/groups/id/{id}/users/add", "gateway", Schema(),
              with_group(_post("/api/v1/groups/id/{id}/users/add", _users))),
    Operation("POST", "/api/v1/groups/id/{id}/users/remove", "gateway", Schema(),
              with_group(_post("/api/v1/groups/id/{id}/users/remove", _users))),
    Operation("DELETE", "/api/v1/groups/id/{id}/delete", "gateway", Schema(),
              with_group(lambda w, g: w.client.delete(f"/api/v1/groups/id/{g['id']}/delete",
                                                      headers=w.bearer()))),
]
