"""Malformed bodies to every operation with a JSON body, of every service, straight to the
service and through the gateway: a 400/413/422 with a JSON `detail` where the body is not JSON
a service can hold, never a 5xx for anything, and every service still serving afterwards.

Each test sends one kind of payload to every operation at once (a few at a time) and reports
every operation that answered wrong, not only the first.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.malformed.conftest import MAX_JSON_SIZE, Answer, MalformedStack, Operation, send_all
from tests.malformed.payloads import CORE, Body, Payload, instance
from tests.support.fullstack import BACKENDS

REJECTED = {400, 413, 422}
TARGETS = ("direct", "gateway")
# Ollama's API passed through to the provider: the provider judges the shape of a well-formed
# body (what the fake takes, the real one may refuse) and answers errors in its own shape,
# `{"error": ...}`, which Ollama's clients read. Malformed JSON never reaches it.
PASSTHROUGH = re.compile(r"^(/api/v1/inference)?/ollama/")


def _detail(answer: Answer, passthrough: bool) -> object:
    try:
        body = json.loads(answer.text)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return body.get("detail") or (body.get("error") if passthrough else None)


def problem(answer: Answer, payload: Payload) -> str | None:
    """What is wrong with an answer, or None."""
    status = answer.status
    operation = answer.operation
    passthrough = PASSTHROUGH.match(operation.template) is not None
    shape_only = payload.needs_object or payload.needs_body  # well-formed JSON, wrong shape
    if not isinstance(status, int):
        return f"no answer ({status}: {answer.text[:200]})"
    if status >= 500:
        return f"{status} (X-Request-ID {answer.request_id}): {answer.text[:300]}"
    # A route that reads its body itself may look its resource up first: a 404 then.
    looked_up_first = status == 404 and "{" in operation.template
    if (payload.rejected and status not in REJECTED
            and not (shape_only and (passthrough or looked_up_first))):
        return f"{status} (wanted 400, 413 or 422): {answer.text[:200]}"
    if status >= 400 and not _detail(answer, passthrough):
        return f"{status} without a JSON detail: {answer.text[:200]}"
    return None


def applies(payload: Payload, operation: Operation) -> bool:
    return ((not payload.needs_object or operation.is_object)
            and (not payload.needs_body or operation.required))


def check(malformed: MalformedStack, target: str, payload: Payload) -> None:
    requests = []
    for operation in malformed.operations[target]:
        if not applies(payload, operation):
            continue
        body = payload.build(operation.schema, operation.components)
        if body is not None:
            requests.append((operation, payload.name, body))
    answers = send_all(requests, malformed.headers)
    failures = sorted(f"{a.operation.label}: {p}" for a in answers
                      if (p := problem(a, payload)) is not None)
    assert not failures, (f"{payload.name}: {len(failures)} of {len(answers)} operations "
                          "answered wrong:\n" + "\n".join(failures))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("payload", CORE, ids=[p.name for p in CORE])
def test_malformed_body(malformed: MalformedStack, target: str, payload: Payload) -> None:
    check(malformed, target, payload)


def _too_large(schema: dict[str, object], components: dict[str, object]) -> Body:
    return Body(json.dumps(instance(schema, components, "x" * (MAX_JSON_SIZE + 1), 1)).encode())


@pytest.mark.timeout(300)
@pytest.mark.parametrize("target", TARGETS)
def test_body_past_the_json_limit(malformed: MalformedStack, target: str) -> None:
    """A well-formed body one byte past MAX_JSON_SIZE: 413, never read whole into a 5xx."""
    payload = Payload("past_json_limit", _too_large)
    # One operation per service and prefix is enough: the limit is checked before any route.
    seen: set[str] = set()
    operations = []
    for operation in malformed.operations[target]:
        key = "/".join(operation.template.split("/")[:4])
        if key not in seen:
            seen.add(key)
            operations.append(operation)
    requests = [(op, payload.name, payload.build(op.schema, op.components))
                for op in operations]
    answers = send_all([r for r in requests if r[2] is not None], malformed.headers)
    failures = sorted(f"{a.operation.label}: {p}" for a in answers
                      if (p := problem(a, payload) or _not_413(a)) is not None)
    assert not failures, "\n".join(failures)


def _not_413(answer: Answer) -> str | None:
    return None if answer.status == 413 else f"{answer.status} (wanted 413): {answer.text[:200]}"


def test_every_service_still_serves(malformed: MalformedStack) -> None:
    """After the barrage (runs last in this module): each service alive, ready, and answering a
    real read and a real write, straight and through the gateway; and no traceback in any
    service's log (an error swallowed by a background task would not show as a 5xx)."""
    stack = malformed.stack
    for name in (*BACKENDS, "gateway"):
        assert stack.services[name].process.poll() is None, f"{name} exited"
        assert httpx.get(f"{stack.url(name)}/readyz", timeout=10).status_code == 200, name
        log = stack.services[name].log()
        assert "Traceback" not in log, f"{name}:\n{log[log.index('Traceback') - 300:][:4000]}"
    headers = malformed.headers
    for base in (stack.gateway, stack.url("chat")):
        created = httpx.post(f"{base}/api/v1/chats/new", headers=headers, timeout=30,
                             json={"chat": {"title": "after the barrage"}})
        assert created.status_code == 200, created.text
        listed = httpx.get(f"{base}/api/v1/chats/", headers=headers, timeout=30)
        assert listed.status_code == 200, listed.text
    reads = {"inference": "/api/v1/inference/models", "retrieval": "/api/v1/knowledge/",
             "agent": "/api/v1/tools/", "gateway": "/api/v1/auths/"}
    for name, path in reads.items():
        for base in {stack.gateway, stack.url(name)}:
            response = httpx.get(base + path, headers=headers, timeout=30)
            assert response.status_code == 200, (name, path, response.text[:300])
