"""Admin Panel > Users, the sharing dialogs' user search, and the signed-in user's own groups,
permissions, status, info and variables (`/api/v1/users`), checked against Open WebUI's
document. Calls that change an account work on an account of their own."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import PASSWORD, World, fresh_user, get, ok

SOURCE = "Open WebUI 0.12.4's users router"
PERMISSIONS = {"workspace": {"models": False}, "sharing": {"models": False},
               "access_grants": {"allow_users": True}, "chat": {"delete": True},
               "features": {"web_search": True}, "settings": {"interface": True}}
GROUP = {"id": "", "user_id": "", "name": "", "description": "", "created_at": 0,
         "updated_at": 0}


def with_account(action: Callable[[World, dict], httpx.Response]
                 ) -> Callable[[World], httpx.Response]:
    """The action on an account the admin has just added."""
    def call(world: World) -> httpx.Response:
        account = ok(world.client.post("/api/v1/auths/add", headers=world.bearer(), json={
            "name": "Dee", "email": f"dee-{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD, "role": "user"}))
        return action(world, account)
    return call


def in_a_group(world: World) -> tuple[dict[str, str], str]:
    """A new account (its bearer header and id) in a new group, so that its group list is not
    empty."""
    headers = fresh_user(world)
    me = ok(world.client.get("/api/v1/auths/", headers=headers))
    group = ok(world.client.post("/api/v1/groups/create", headers=world.bearer(), json={
        "name": f"Team {uuid.uuid4().hex[:6]}", "description": ""}))
    ok(world.client.post(f"/api/v1/groups/id/{group['id']}/users/add", headers=world.bearer(),
                         json={"user_ids": [me["id"]]}))
    return headers, me["id"]


def _admin_posts(path: str, body: Callable[[World], object]) -> Callable[[World], httpx.Response]:
    return lambda w: w.client.post(path, headers=w.bearer(), json=body(w))


def _defaults(world: World) -> object:
    """The default permissions as they are (posted back unchanged: the other areas' accounts
    keep theirs)."""
    return ok(world.get("/api/v1/users/default/permissions"))


def _status_on(world: World) -> dict[str, str]:
    config = ok(world.get("/api/v1/auths/admin/config"))
    ok(world.client.post("/api/v1/auths/admin/config", headers=world.bearer(),
                         json={**config, "ENABLE_USER_STATUS": True}))
    return fresh_user(world)


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/users/all", "gateway", Schema(), get("/api/v1/users/all")),
    Operation("GET", "/api/v1/users/search", "gateway", Schema(),
              get("/api/v1/users/search", query="a")),
    Operation("GET", "/api/v1/users/groups", "gateway", Shape([GROUP], SOURCE),
              lambda w: w.client.get("/api/v1/users/groups", headers=in_a_group(w)[0])),
    Operation("GET", "/api/v1/users/permissions", "gateway", Shape(PERMISSIONS, SOURCE),
              lambda w: w.client.get("/api/v1/users/permissions", headers=fresh_user(w))),
    Operation("GET", "/api/v1/users/default/permissions", "gateway", Schema(),
              get("/api/v1/users/default/permissions")),
    Operation("POST", "/api/v1/users/default/permissions", "gateway",
              Shape(PERMISSIONS, SOURCE + " (answers what is stored)"),
              _admin_posts("/api/v1/users/default/permissions", _defaults)),
    Operation("GET", "/api/v1/users/default/permissions/defaults", "gateway", Schema(),
              get("/api/v1/users/default/permissions/defaults")),
    Operation("GET", "/api/v1/users/user/info", "gateway", Schema(),
              lambda w: w.client.get("/api/v1/users/user/info", headers=fresh_user(w))),
    Operation("POST", "/api/v1/users/user/info/update", "gateway", Schema(),
              lambda w: w.client.post("/api/v1/users/user/info/update", headers=fresh_user(w),
                                      json={"location": "Lyon"})),
    Operation("GET", "/api/v1/users/user/variables", "gateway", Schema(),
              lambda w: w.client.get("/api/v1/users/user/variables", headers=fresh_user(w))),
    Operation("POST", "/api/v1/users/user/variables/update", "gateway", Schema(),
              lambda w: w.client.post("/api/v1/users/user/variables/update",
                                      headers=fresh_user(w),
                                      json={"variables": {"city": "Lyon"}})),
    Operation("GET", "/api/v1/users/user/status", "gateway",
              Shape({"id": "", "name": "", "status_emoji": None, "status_message": None,
                     "status_expires_at": None}, SOURCE + " (the user, with their status)"),
              lambda w: w.client.get("/api/v1/users/user/status", headers=_status_on(w))),
    Operation("POST", "/api/v1/users/user/status/update", "gateway",
              Shape({"id": "", "name": "", "status_emoji": "", "status_message": ""},
                    SOURCE + " (the user, with their status)"),
              lambda w: w.client.post("/api/v1/users/user/status/update", headers=_status_on(w),
                                      json={"status_emoji": "🌴", "status_message": "away"})),
    Operation("GET", "/api/v1/users/{user_id}", "gateway", Schema(),
              lambda w: w.get(f"/api/v1/users/{w.plain_user_id}")),
    Operation("GET", "/api/v1/users/{user_id}/info", "gateway", Schema(),
              lambda w: w.get(f"/api/v1/users/{w.plain_user_id}/info")),
    Operation("GET", "/api/v1/users/{user_id}/active", "gateway", Schema(),
              lambda w: w.get(f"/api/v1/users/{w.plain_user_id}/active")),
    Operation("GET", "/api/v1/users/{user_id}/groups", "gateway", Shape([GROUP], SOURCE),
              lambda w: w.get(f"/api/v1/users/{in_a_group(w)[1]}/groups")),
    Operation("POST", "/api/v1/users/{user_id}/update", "gateway", Schema(),
              with_account(lambda w, a: w.client.post(
                  f"/api/v1/users/{a['id']}/update", headers=w.bearer(),
                  json={"name": "Dee Renamed", "role": "user", "email": a["email"]}))),
    Operation("POST", "/api/v1/users/{user_id}/sessions/revoke", "gateway", Schema(),
              with_account(lambda w, a: w.client.post(
                  f"/api/v1/users/{a['id']}/sessions/revoke", headers=w.bearer()))),
    Operation("DELETE", "/api/v1/users/{user_id}", "gateway", Schema(),
              with_account(lambda w, a: w.client.delete(f"/api/v1/users/{a['id']}",
                                                        headers=w.bearer()))),
]
