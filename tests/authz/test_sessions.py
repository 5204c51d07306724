"""Code session names are per user: Bob running code in a session named as Alice's gets a
session of his own, never her variables; and closing a session while it starts is a conflict
(409) for the call that was waiting on it, never a 500."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.authz.conftest import World
from tests.authz.owners import client_for, ok, sign_in


def test_a_session_name_is_the_callers_own(world: World) -> None:
    name = world.alice.slots["session"]
    session = sign_in(world.stack.gateway, world.bob.email, "correct-horse")
    with client_for(world.stack.gateway, session["token"]) as bob:
        ran = ok(bob.post("/api/v1/agents/code/execute", json={
            "code": "print(globals().get('secret'))", "session_id": name}))
        assert ran["stdout"] == "None\n"
        assert ok(bob.delete(f"/api/v1/agents/code/sessions/{name}")) == {"closed": True}
    mine = ok(world.alice.client.post("/api/v1/agents/code/execute", json={
        "code": "print(secret)", "session_id": name}))
    assert mine["stdout"] == f"{world.alice.private}\n"
    world.before = world.alice_now()  # Alice used her session: the state to keep from now on


def test_closing_a_session_while_it_starts_is_a_conflict(world: World) -> None:
    session = sign_in(world.stack.gateway, world.bob.email, "correct-horse")

    def call(client: httpx.Client, index: int) -> httpx.Response:
        if index % 2:
            return client.delete("/api/v1/agents/code/sessions/racing")
        return client.post("/api/v1/agents/code/execute",
                           json={"code": "print(1)", "session_id": "racing"})

    with client_for(world.stack.gateway, session["token"]) as bob:
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda i: call(bob, i), range(24)))
        statuses = {(r.request.method, r.status_code) for r in answers}
        assert statuses <= {("POST", 200), ("POST", 409), ("DELETE", 200), ("DELETE", 404)}, [
            (r.status_code, r.text) for r in answers if r.status_code >= 500]
        # Once the race is over the name works again.
        assert ok(call(bob, 0))["stdout"] == "1\n"
