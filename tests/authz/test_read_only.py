"""What Alice shares read-only with Bob (a knowledge collection, a model preset): Bob reads and
uses it on every route that reads, and every route that would change it answers 403: he knows
it exists, so 404 would be a lie. Afterwards Alice reads both back unchanged."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.authz.conftest import MODEL, World
from tests.authz.operations import PUBLIC, Call, each_call
from tests.authz.owners import client_for, ok, picture, sign_in
from tests.authz.probe import judge


def _shared(world: World) -> dict[str, Any]:
    alice, bob = world.alice.client, world.bob.id
    knowledge = ok(alice.post("/api/v1/knowledge/create", json={
        "name": "team notes", "description": "read by Bob",
        "access_grants": [{"principal_id": bob, "permission": "read"}]}))["id"]
    ok(alice.post("/api/v1/retrieval/process/text", json={
        "name": "note", "content": "The team meets on Monday.", "collection_name": "notes"}))
    preset = f"team-{uuid.uuid4().hex[:8]}"
    ok(alice.post("/api/v1/models/create", json={
        "id": preset, "base_model_id": MODEL, "name": "team preset", "params": {},
        "meta": {"profile_image_url": picture("the team's picture")},  # Bob gets it, 200
        "access_grants": [{"principal_type": "user", "principal_id": bob,
                           "permission": "read"}]}))
    return {"knowledge": knowledge, "preset": preset}


def _state(client: httpx.Client, shared: dict[str, Any]) -> list[Any]:
    return [ok(client.get(f"/api/v1/knowledge/{shared['knowledge']}")),
            ok(client.get("/api/v1/models/model", params={"id": shared["preset"]}))]


def test_read_only_shares_are_read_but_never_changed(world: World) -> None:
    shared = _shared(world)
    before = _state(world.alice.client, shared)
    ops = [op for op in world.operations if op.key not in PUBLIC]
    calls = [c for c in each_call(ops, shared, world.bob.slots) if c.victim_slots]
    assert {c.op.path for c in calls} >= {"/api/v1/knowledge/{knowledge_id}/update",
                                          "/api/v1/models/model/toggle"}

    def expect(call: Call) -> frozenset[int] | None:
        if call.op.key in world.admin_only:
            return frozenset({403})
        if call.op.method == "GET":
            # A version of the preset is named by a placeholder (no slot makes one): Bob may
            # read the history, and "no such version" is the true answer.
            return frozenset({200, 404} if call.op.path.startswith(
                "/api/v1/models/model/history/") else {200})
        if call.body_only and call.op.path != "/api/v1/models/model/update":
            return None  # naming it to read it (a search, a model call): Bob may
        return frozenset({403, 409} if call.op.path == "/api/v1/models/create" else {403})

    session = sign_in(world.stack.gateway, world.bob.email, "correct-horse")
    with client_for(world.stack.gateway, session["token"]) as bob:
        problems = judge(bob, [c for c in calls if not c.op.path.endswith("/completions")
                               or not c.op.path.startswith("/api/v1/chats/")],
                         expect, world.alice, signed_in=True,
                         sent=" ".join(c.sent_text() for c in calls))
    assert not problems, "\n".join(map(str, problems))
    assert _state(world.alice.client, shared) == before
    assert world.alice_now() == world.before
