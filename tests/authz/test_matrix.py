"""The authorization matrix: every route of every service (read from their OpenAPI documents),
aimed at Alice's resources by Bob, by a pending account and by an anonymous client, through the
gateway. Each is refused with the right status, no answer shows anything of Alice's that the
caller did not send, and Alice's resources read back unchanged afterwards."""

from __future__ import annotations

import time

import httpx

from tests.authz.conftest import World
from tests.authz.operations import PUBLIC, SESSION_ENDING, Call, each_call
from tests.authz.owners import ADMIN_MADE, RESOURCE_TYPES, client_for, owner
from tests.authz.probe import AsUnknown, Verdict, judge, refusal, unlike_unknown

PENDING_OWN = "/api/v1/auths"  # a pending account may still see and sign out of itself


def _report(problems: list[object]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(map(str, problems))


def _matrix(world: World) -> list[Call]:
    ops = [op for op in world.operations if op.key not in PUBLIC]
    return each_call(ops, world.alice.slots, world.bob.slots)


def test_the_matrix_reaches_every_resource_type(world: World) -> None:
    aimed = {slot for call in _matrix(world) for slot in call.victim_slots}
    missing = set(RESOURCE_TYPES) - aimed - {"preferences"}  # per caller: no id to aim at
    assert not missing, f"no route of the documents names these resources: {missing}"
    assert set(ADMIN_MADE) <= aimed
    assert len(world.operations) > 150
    admin_paths = {path for _method, path in world.admin_only}
    assert {"/api/v1/chats/{id}/completions", "/api/v1/chats/{id}/messages/{message_id}/stop",
            "/api/chat/completions"} <= {c.op.path for c in _matrix(world) if c.victim_slots}
    assert {"/api/v1/users/{user_id}", "/api/v1/inference/connections",
            "/api/v1/functions/create", "/api/v1/chats/all/db"} <= admin_paths


def test_the_leak_check_sees_what_the_owner_sees(world: World) -> None:
    """The check against a known answer: Alice's own reads show her words, and it says so."""
    ops = [op for op in world.operations if op.method == "GET"]
    reads = [c for c in each_call(ops, world.alice.slots, {}) if c.victim_slots]
    problems = judge(world.alice.client, reads, lambda _call: None, world.alice, False)
    flagged = {str(p.call.op) for p in problems if "private words" in p.problem}
    assert {"GET /api/v1/chats/{id}/messages", "GET /api/v1/folders/{id}",
            "GET /api/v1/files/{file_id}", "GET /api/v1/knowledge/{knowledge_id}",
            "GET /api/v1/models/model", "GET /api/v1/agents/tasks/{task_id}",
            "GET /api/v1/agents/workflows/runs/{run_id}",
            "GET /api/v1/models/model/profile/image"} <= flagged
    shown = {str(p.call.op) for p in problems if "shared chat" in p.problem}
    assert "GET /api/v1/chats/share/{share_id}" in shown
    # The exception's check: Alice's own picture is not what an unknown id gets.
    image = next(c for c in reads if c.op.path == "/api/v1/models/model/profile/image")
    assert isinstance(refusal(image), AsUnknown)
    assert unlike_unknown(world.alice.client, image, world.alice,
                          image.send(world.alice.client))


def _background_done(client: httpx.Client) -> None:
    """Wait until the caller's background tasks have ended: their results are answers too."""
    deadline = time.monotonic() + 60
    while any(t["status"] in ("queued", "running")
              for t in client.get("/api/v1/agents/tasks").json()):
        assert time.monotonic() < deadline, "the caller's background tasks never ended"
        time.sleep(0.2)


def test_the_admin_only_routes_answer_the_admin(world: World) -> None:
    """The check against a known answer: what Bob must be refused, the admin reads."""
    reads = [c for c in _matrix(world) if c.op.key in world.admin_only and c.op.method == "GET"]
    assert len(reads) >= 5
    answers = {str(c): c.send(world.admin.client).status_code for c in reads}
    refused = {call: status for call, status in answers.items() if not 200 <= status < 300}
    assert not refused, refused


def test_another_user_is_refused_on_every_route(world: World, bob_client: httpx.Client) -> None:
    def expect(call: Call) -> frozenset[int] | AsUnknown | None:
        if call.op.key in world.admin_only:
            return frozenset({403})
        if not call.victim_slots:
            return None  # Bob's own things: any answer but a leak or a server error
        return refusal(call)

    calls = _matrix(world)
    # Bob's own things come to hold what he sent (a task keeps its body): ids he sent are his.
    sent = " ".join(c.sent_text() for c in calls)
    aimed = [c for c in calls if c.victim_slots]
    own = [c for c in calls if not c.victim_slots and c.op.key not in SESSION_ENDING]
    ending = [c for c in calls if c.op.key in SESSION_ENDING]

    def run(group: list[Call]) -> list[Verdict]:
        return judge(bob_client, group, expect, world.alice, True, sent)

    # Aimed at Alice first, while Bob's own resources (mixed into those calls) still exist;
    # then the routes on Bob's own collections (some delete them), read again once his
    # background tasks have ended; sign-out last.
    problems = run(aimed) + run(own)
    _background_done(bob_client)
    problems += run([c for c in own if c.op.method == "GET"]) + run(ending)
    assert not problems, _report(problems)
    assert world.alice_now() == world.before


SPOOFED = {"X-OWUI-User-Id": "{alice}", "X-OWUI-Role": "admin", "X-User-Id": "{alice}",
           "X-User-Role": "admin", "X-Forwarded-User": "{alice}", "X-Remote-User": "{alice}"}


def test_identity_headers_from_outside_change_nothing(world: World,
                                                     bob_client: httpx.Client) -> None:
    """Bob claiming Alice's identity or the admin role in headers, through the gateway and
    straight at each service: the token alone says who he is."""
    headers = {k: v.format(alice=world.alice.id) for k, v in SPOOFED.items()}
    reads = [c for c in _matrix(world) if c.victim_slots and c.op.method == "GET"]
    problems = []
    for base in (world.stack.gateway, *(world.stack.url(n) for n in ("chat", "retrieval",
                                                                       "agent", "inference"))):
        with httpx.Client(base_url=base, timeout=60, headers={
                **headers, "Authorization": bob_client.headers["authorization"]}) as client:
            mine = [c for c in reads if base == world.stack.gateway
                    or base == world.stack.url(c.op.service)]
            problems += judge(client, mine, lambda call: (
                frozenset({403}) if call.op.key in world.admin_only else refusal(call)),
                world.alice, True)
    assert not problems, _report(problems)


def test_a_new_user_sees_nothing_of_anyone_else(world: World) -> None:
    """Every listing and search, as someone who never saw a link or sent an id: no word of
    Alice's (not even her shared chat) and no id of hers in any answer."""
    carol = owner(world.stack.gateway, "Carol")
    lists = [c for c in _matrix(world) if not c.victim_slots and c.op.method == "GET"]
    try:
        problems = judge(carol.client, lists, lambda _call: None, world.alice, False)
    finally:
        carol.client.close()
    assert not problems, _report(problems)


def test_a_pending_account_is_refused_everywhere(world: World) -> None:
    def expect(call: Call) -> frozenset[int] | None:
        if not call.op.path.startswith(PENDING_OWN):
            return frozenset({403})
        return frozenset({404}) if call.victim_slots else None

    calls = [c for c in _matrix(world) if c.op.key not in SESSION_ENDING]
    with client_for(world.stack.gateway, world.pending_token) as client:
        problems = judge(client, calls, expect, world.alice, signed_in=False)
        assert client.get("/api/v1/auths/").json()["role"] == "pending"
    assert not problems, _report(problems)
    assert world.alice_now() == world.before


def test_an_anonymous_client_is_refused_everywhere(world: World) -> None:
    with client_for(world.stack.gateway, None) as client:
        problems = judge(client, _matrix(world), lambda _call: frozenset({401}), world.alice,
                         signed_in=False)
    assert not problems, _report(problems)
    assert world.alice_now() == world.before
