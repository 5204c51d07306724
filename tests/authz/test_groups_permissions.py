"""Groups and permissions across every service: each route that needs a permission (found in the
apps themselves: the dependencies `require_permission` and the gateway's `gateway_permission`
make) refuses a user who lacks it with a 403 naming it, lets them through once a group of theirs
grants it, and refuses again once they leave the group; sharing a resource needs the
`sharing.*` permission of its kind, in every service that keeps one. The gateway's own rules
beside them:
looking users up needs a sharing permission, a user sees only their own groups."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from owui.core.services import NAMES
from tests.authz.conftest import MODEL, World
from tests.authz.operations import Call, Operation, calls
from tests.authz.owners import TOOL_SOURCE, Owner, make_user_resources, ok, owner
from tests.support.routes import routes_of


def _permissions_of(dependant: Any) -> set[str]:
    found = {getattr(dependant.call, "permission", None)}
    for inner in dependant.dependencies:
        found |= _permissions_of(inner)
    return found - {None}


def gated() -> dict[tuple[str, str], set[str]]:
    """(method, path) -> the permissions its route needs, in every service."""
    keys: dict[tuple[str, str], set[str]] = {}
    for service in NAMES:
        app = importlib.import_module(f"owui.{service}.app").app
        app = getattr(app, "api", app)
        for path, route in routes_of(app.routes):
            dependant = getattr(route, "dependant", None)
            needed = _permissions_of(dependant) if dependant is not None else set()
            if needed:
                keys.update({(method, path): needed for method in route.methods})
    return keys


def _section_values(permissions: set[str], value: bool) -> dict[str, dict[str, bool]]:
    grouped: dict[str, dict[str, bool]] = {}
    for key in permissions:
        section, _, name = key.partition(".")
        grouped.setdefault(section, {})[name] = value
    return grouped


@pytest.fixture(scope="module")
def dan(world: World) -> Iterator[Owner]:
    """A user of his own with one of everything (the calls below may change or delete it)."""
    made = owner(world.stack.gateway, "Dan")
    make_user_resources(made, MODEL)
    yield made
    made.client.close()


@pytest.fixture
def withheld(world: World) -> Iterator[tuple[dict[tuple[str, str], set[str]], str]]:
    """Every gated permission off in the defaults (restored after), and a group granting them
    all, with no member yet: (the gated routes, the group's id)."""
    admin = world.admin.client
    routes = gated()
    every = set().union(*routes.values())
    before = ok(admin.get("/api/v1/users/default/permissions"))
    off = {section: {**values, **_section_values(every, False).get(section, {})}
           for section, values in before.items()}
    ok(admin.post("/api/v1/users/default/permissions", json=off))
    group = ok(admin.post("/api/v1/groups/create", json={
        "name": "Granted", "description": "every gated permission",
        "permissions": _section_values(every, True)}))
    try:
        yield routes, group["id"]
    finally:
        ok(admin.delete(f"/api/v1/groups/id/{group['id']}/delete"))
        ok(admin.post("/api/v1/users/default/permissions", json=before))


def _calls(world: World, routes: dict[tuple[str, str], set[str]],
           who: Owner) -> list[tuple[Call, set[str]]]:
    """Each gated route's call on the user's own things, with the permissions it needs."""
    ops: list[Operation] = [op for op in world.operations if op.key in routes
                            and op.key not in world.admin_only]
    return [(c, routes[op.key]) for op in ops for c in calls(op, {}, who.slots)]


def _refused(response: httpx.Response, needed: set[str]) -> bool:
    return response.status_code == 403 and any(f"'{key}'" in response.text for key in needed)


def test_a_gated_route_is_allowed_exactly_where_granted(world: World, dan: Owner,
                                                        withheld: tuple) -> None:
    routes, group_id = withheld
    assert ("POST", "/api/v1/auths/api_keys") in routes  # the gateway's own, at least
    todo = _calls(world, routes, dan)
    assert todo, "no gated route could be called"
    wrong = [f"{c} -> {r.status_code} {r.text[:120]}" for c, needed in todo
             if not _refused(r := c.send(dan.client), needed)]
    assert not wrong, "not refused without the permission:\n" + "\n".join(wrong)
    admin = world.admin.client
    ok(admin.post(f"/api/v1/groups/id/{group_id}/users/add", json={"user_ids": [dan.id]}))
    refused = [f"{c} -> {r.status_code} {r.text[:120]}" for c, needed in todo
               if _refused(r := c.send(dan.client), needed)]
    assert not refused, "refused although a group grants it:\n" + "\n".join(refused)
    ok(admin.post(f"/api/v1/groups/id/{group_id}/users/remove", json={"user_ids": [dan.id]}))
    again = [str(c) for c, needed in todo if not _refused(c.send(dan.client), needed)]
    assert not again, "still allowed after leaving the group:\n" + "\n".join(again)


def test_api_keys_off_refuses_new_keys_and_old_ones(world: World) -> None:
    admin = world.admin.client
    key = ok(world.bob.client.post("/api/v1/auths/api_keys", json={"name": "k"}), 201)
    by_key = {"Authorization": f"Bearer {key['api_key']}"}
    gateway = world.stack.gateway
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=by_key).status_code == 200
    config = ok(admin.get("/api/v1/auths/admin/config"))
    ok(admin.post("/api/v1/auths/admin/config", json={**config, "ENABLE_API_KEYS": False}))
    try:
        for client in (world.bob.client, admin):
            refused = client.post("/api/v1/auths/api_keys", json={"name": "k"})
            assert refused.status_code == 403 and "turned off" in refused.json()["detail"]
        assert httpx.get(f"{gateway}/api/v1/auths/", headers=by_key).status_code == 401
    finally:
        ok(admin.post("/api/v1/auths/admin/config", json=config))
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=by_key).status_code == 200


@contextmanager
def _no_sharing(admin: httpx.Client) -> Iterator[None]:
    """Default permissions that share nothing, for a while."""
    before = ok(admin.get("/api/v1/users/default/permissions"))
    off = {**before, "sharing": dict.fromkeys(before["sharing"], False)}
    ok(admin.post("/api/v1/users/default/permissions", json=off))
    try:
        yield
    finally:
        ok(admin.post("/api/v1/users/default/permissions", json=before))


def test_looking_users_up_needs_a_sharing_permission(world: World) -> None:
    admin, alice = world.admin.client, world.alice
    lookups = ("/api/v1/users/search?query=alice", f"/api/v1/users/{alice.id}/info",
               f"/api/v1/users/{alice.id}/active")
    with _no_sharing(admin):
        _lookups_follow_the_group(world, lookups)


def _lookups_follow_the_group(world: World, lookups: tuple[str, ...]) -> None:
    bob, admin, alice = world.bob.client, world.admin.client, world.alice
    assert [bob.get(path).status_code for path in lookups] == [404, 404, 404]
    group = ok(admin.post("/api/v1/groups/create", json={
        "name": "Sharers", "description": "", "permissions": {"sharing": {"knowledge": True}}}))
    try:
        ok(admin.post(f"/api/v1/groups/id/{group['id']}/users/add",
                      json={"user_ids": [world.bob.id]}))
        found = ok(bob.get(lookups[0]))
        assert alice.id in [u["id"] for u in found["users"]]
        assert ok(bob.get(lookups[1]))["name"] == "Alice"
        assert "active" in ok(bob.get(lookups[2]))
    finally:
        ok(admin.delete(f"/api/v1/groups/id/{group['id']}/delete"))
    assert [bob.get(path).status_code for path in lookups] == [404, 404, 404]


def test_a_user_sees_only_their_own_groups(world: World) -> None:
    admin = world.admin.client
    theirs = ok(admin.post("/api/v1/groups/create", json={"name": "Alice's", "description": ""}))
    mine = ok(admin.post("/api/v1/groups/create", json={"name": "Bob's", "description": ""}))
    try:
        ok(admin.post(f"/api/v1/groups/id/{theirs['id']}/users/add",
                      json={"user_ids": [world.alice.id]}))
        ok(admin.post(f"/api/v1/groups/id/{mine['id']}/users/add",
                      json={"user_ids": [world.bob.id]}))
        seen = [g["id"] for g in ok(world.bob.client.get("/api/v1/groups/"))]
        assert seen == [mine["id"]]
        assert [g["id"] for g in ok(world.bob.client.get("/api/v1/users/groups"))] == seen
        every = {g["id"] for g in ok(admin.get("/api/v1/groups/"))}
        assert {theirs["id"], mine["id"]} <= every
        assert world.bob.client.get(f"/api/v1/groups/id/{theirs['id']}").status_code == 403
    finally:
        for group in (theirs, mine):
            ok(admin.delete(f"/api/v1/groups/id/{group['id']}/delete"))


def _bobs_resources(world: World) -> dict[str, tuple[str, dict[str, Any]]]:
    """A collection, a model, a folder and a tool of Bob's, none shared; for each, the
    permission sharing it with a user needs: (its access/update path, the body's other fields)."""
    bob = world.bob.client
    knowledge = ok(bob.post("/api/v1/knowledge/create", json={
        "name": "Bob's", "description": "", "access_grants": []}))["id"]
    preset = f"bobs-{uuid.uuid4().hex[:8]}"
    ok(bob.post("/api/v1/models/create", json={
        "id": preset, "base_model_id": MODEL, "name": "Bob's", "params": {}, "meta": {},
        "access_grants": []}))
    folder = ok(bob.post("/api/v1/folders/", json={"name": f"Bob's {preset}"}))["id"]
    tool = f"tool_{uuid.uuid4().hex[:10]}"
    ok(bob.post("/api/v1/tools/create", json={
        "id": tool, "name": "Bob's", "access_grants": [], "meta": {"description": ""},
        "content": TOOL_SOURCE.format(marker="bob")}))
    return {"knowledge": (f"/api/v1/knowledge/{knowledge}/access/update", {}),
            "models": ("/api/v1/models/model/access/update", {"id": preset}),
            "folders": (f"/api/v1/folders/{folder}/access/update", {}),
            "tools": (f"/api/v1/tools/id/{tool}/access/update", {})}


def test_sharing_needs_the_sharing_permission_of_its_kind(world: World) -> None:
    """As Open WebUI 0.12: an Access change the user may not make is refused (403 naming the
    permission), in every service that keeps shared resources; a group granting
    `sharing.<kind>` allows it, `sharing.public_<kind>` sharing with everyone; the grants a
    resource already has pass a save unchanged once the permission is gone."""
    admin, bob = world.admin.client, world.bob.client
    makers = ok(admin.post("/api/v1/groups/create", json={
        "name": "Tool makers", "description": "", "permissions": {"workspace": {"tools": True}}}))
    sharers = ok(admin.post("/api/v1/groups/create", json={
        "name": "Bob sharing", "description": "", "permissions": {
            "sharing": {kind: True for kind in ("knowledge", "models", "folders", "tools")}}}))
    to_alice = [{"principal_type": "user", "principal_id": world.alice.id, "permission": "read"}]
    to_all = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
    members = {"user_ids": [world.bob.id]}
    try:
        ok(admin.post(f"/api/v1/groups/id/{makers['id']}/users/add", json=members))
        resources = _bobs_resources(world)
        for kind, (path, body) in resources.items():
            refused = bob.post(path, json={**body, "access_grants": to_alice})
            assert refused.status_code == 403, (kind, refused.text)
            assert f"'sharing.{kind}'" in refused.json()["detail"]
        ok(admin.post(f"/api/v1/groups/id/{sharers['id']}/users/add", json=members))
        for kind, (path, body) in resources.items():
            ok(bob.post(path, json={**body, "access_grants": to_alice}))
            if kind != "folders":  # a folder has no public form
                public = bob.post(path, json={**body, "access_grants": to_all})
                assert public.status_code == 403, (kind, public.text)
                assert f"'sharing.public_{kind}'" in public.json()["detail"]
        ok(admin.post(f"/api/v1/groups/id/{sharers['id']}/users/remove", json=members))
        for path, body in resources.values():
            ok(bob.post(path, json={**body, "access_grants": to_alice}))  # unchanged: saved
            ok(bob.post(path, json={**body, "access_grants": []}))  # sharing less: always
    finally:
        for group in (makers, sharers):
            ok(admin.delete(f"/api/v1/groups/id/{group['id']}/delete"))
