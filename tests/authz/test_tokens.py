"""Tokens at every route: a signed-out token is refused by the gateway everywhere, and every
service reached directly refuses a missing, garbage, expired, foreign-key, `alg: none`,
role-less or unknown-role token (401) on each of its own routes, even one aimed at real data.
What a token says of its user is the gateway's: a turn stores the name signed into it."""

from __future__ import annotations

import httpx
import pytest

from owui.core.services import NAMES
from tests.authz.conftest import MODEL, World
from tests.authz.operations import PUBLIC, Call, each_call
from tests.authz.owners import client_for, ok, owner, sign_in
from tests.authz.probe import judge
from tests.test_service_tokens import _bad_tokens


def _calls(world: World, service: str) -> list[Call]:
    """The service's own routes (the gateway: every route, it is the door to all)."""
    ops = [op for op in world.operations if op.key not in PUBLIC
           and (service == "gateway" or op.service == service)]
    return each_call(ops, world.alice.slots, world.bob.slots)


def _refused(call: Call) -> frozenset[int]:
    return frozenset({401})


def test_a_signed_out_token_is_refused_everywhere(world: World) -> None:
    session = sign_in(world.stack.gateway, world.bob.email, "correct-horse")
    with client_for(world.stack.gateway, session["token"]) as client:
        ok(client.post("/api/v1/auths/signout"))
        problems = judge(client, _calls(world, "gateway"), _refused, world.alice, False)
    assert not problems, "\n".join(map(str, problems))
    assert world.alice_now() == world.before


def test_a_deleted_accounts_token_and_key_are_refused_everywhere(world: World) -> None:
    gone = owner(world.stack.gateway, "Gone")
    key = ok(gone.client.post("/api/v1/auths/api_keys", json={"name": "left behind"}), 201)
    assert ok(world.admin.client.delete(f"/api/v1/users/{gone.id}")) is True
    problems = judge(gone.client, _calls(world, "gateway"), _refused, world.alice, False)
    with client_for(world.stack.gateway, key["api_key"]) as client:
        problems += judge(client, _calls(world, "gateway"), _refused, world.alice, False)
    gone.client.close()
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("service", NAMES)
def test_every_service_refuses_bad_tokens_on_every_route(world: World, jwt_secret: str,
                                                        service: str) -> None:
    calls = _calls(world, service)
    assert calls
    problems = []
    for label, token in _bad_tokens(jwt_secret).items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=world.stack.url(service), headers=headers,
                          timeout=60) as client:
            found = judge(client, calls, _refused, world.alice, False)
        problems += [f"{label}: {p}" for p in found]
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_a_turn_names_its_author_as_the_gateway_signed_it(world: World) -> None:
    """The user's message a turn stores carries `user_id` and `user {id, name}` as Open WebUI
    stores them: the name from the token the gateway issued (a session's, or the one it mints
    for an API key), never from the request."""
    dana = owner(world.stack.gateway, "Dana")
    key = ok(dana.client.post("/api/v1/auths/api_keys", json={"name": "turns"}), 201)["api_key"]
    chat = ok(dana.client.post("/api/v1/chats/new", json={"chat": {"title": "who"}}))["id"]
    with client_for(world.stack.gateway, key) as by_key:
        for client in (dana.client, by_key):
            ok(client.post(f"/api/v1/chats/{chat}/completions", json={
                "model": MODEL, "content": "hi", "stream": False,
                "user": {"id": world.alice.id, "name": "Alice"}}), 422)  # not the form's to say
            ok(client.post(f"/api/v1/chats/{chat}/completions", json={
                "model": MODEL, "content": "hi", "stream": False}))
    stored = ok(dana.client.get(f"/api/v1/chats/{chat}"))["chat"]["history"]["messages"]
    authors = [(m["user_id"], m["user"]) for m in stored.values() if m["role"] == "user"]
    assert authors == [(dana.id, {"id": dana.id, "name": "Dana"})] * 2, authors
    dana.client.close()
