"""Send the matrix's requests in parallel and judge each answer: the status the caller must get,
and no word or id of the victim's that the caller did not send itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import httpx

from owui.core.auth import ADMIN_ONLY_DETAIL
from tests.authz.operations import Call
from tests.authz.owners import Owner

WORKERS = 12
# Where answering is right by design, as (method, path, victim slot): the statuses allowed.
BY_DESIGN: dict[tuple[str, str, str], tuple[frozenset[int], str]] = {
    ("GET", "/api/v1/chats/share/{share_id}", "share"):
        (frozenset({200}), "a share link is readable by every signed-in user"),
    ("POST", "/api/v1/chats/{id}/clone/shared", "share"):
        (frozenset({200}), "a share link may be cloned by every signed-in user"),
    ("POST", "/api/v1/chats/{id}/completions", "preset"):
        (frozenset({200, 404}), "a turn that searched first reports the model's 404 in the "
                                "stream, having shown what it searched"),
    ("POST", "/api/v1/chats/{id}/compact", "preset"):
        (frozenset({200, 404, 409}), "the model is passed on with the caller's token when the "
         "summary is made (404 then); before that, compaction switched off (200 'disabled') "
         "or an answer being written in the chat (409) says nothing of the model"),
    ("POST", "/api/v1/models/create", "preset"):
        (frozenset({409}), "preset ids are one namespace: a taken id is a conflict"),
}
# The one exception to "refused as absent": routes that answer something for an id they cannot
# show, as (method, path, victim slot) and why. Aimed at the victim's resource, such a call must
# answer exactly what the same call with an id that names nothing answers (status, bytes and
# headers, but for the per-request ones): so the answer tells nothing of the victim, not even
# that the id exists.
ANSWERED_AS_UNKNOWN: dict[tuple[str, str, str], str] = {
    ("GET", "/api/v1/models/model/profile/image", "preset"):
        "Open WebUI's web app loads every model's picture with <img>, whatever the model: a "
        "model the caller may not read gets the default picture, as an unknown id does",
}
# Headers that differ from one request to the next whatever it asked.
PER_REQUEST_HEADERS = frozenset({"date", "x-request-id"})
# A run passes what its body names on with the caller's token, and answers without what the
# caller may not reach: the retrieval service refuses the victim's collections and files, a
# chat id is a label for filters, filter ids choose among the active filters, a background
# task finds out about a model when it runs. The echo model shows any context that got in.
_PASSED_ON = frozenset({200, 202, 400, 404})
for _path, _slots in (("/api/v1/agents/run", ("knowledge", "file", "chat", "function")),
                      ("/api/v1/agents/tasks", ("knowledge", "file", "chat", "function",
                                                "preset")),
                      ("/api/v1/tasks/title/completions", ("chat",)),
                      ("/api/v1/chats/{id}/completions", ("knowledge", "file", "function")),
                      ("/api/chat/completions", ("knowledge", "file", "function"))):
    for _slot in _slots:
        BY_DESIGN[("POST", _path, _slot)] = (_PASSED_ON, "passed on with the caller's token")
# Names in each user's own namespace: aimed at the victim's, a call reaches the caller's own.
NAMESPACED = frozenset({"tag", "session"})
# Upstream failures, not the service's: an Ollama API with no Ollama connection answers 503.
UPSTREAM_STATUSES = frozenset({502, 503, 504})
# Slots a share link shows every signed-in user (the owner's id, the tag on the chat).
SHARED_SLOTS = frozenset({"share", "user", "preferences", "tag"})
# Ids every user sees: the model lists name the connection that serves each model.
LISTED_SLOTS = frozenset({"connection"})


@dataclass
class Verdict:
    call: Call
    status: int
    problem: str

    def __str__(self) -> str:
        return f"{self.call} -> {self.status}: {self.problem}"


@dataclass(frozen=True)
class AsUnknown:
    """The expectation of an ANSWERED_AS_UNKNOWN call: the unknown id's answer, to the byte."""

    reason: str


Expect = Callable[[Call], frozenset[int] | AsUnknown | None]


def by_design(call: Call) -> frozenset[int] | None:
    """The statuses allowed by design for a call aimed at one victim slot, if any."""
    allowed: frozenset[int] | None = None
    for slot in call.victim_slots:
        entry = BY_DESIGN.get((call.op.method, call.op.path, slot))
        if entry is None:
            return None
        allowed = entry[0] if allowed is None else allowed & entry[0]
    return allowed


def refusal(call: Call) -> frozenset[int] | AsUnknown | None:
    """What a signed-in user gets for a call aimed at the victim (a route not for admins only):
    404, as if absent, for a resource the route addresses; 400 or 404 for one a body refers
    to; whatever the caller's own namespace answers for names that are per user; for the
    ANSWERED_AS_UNKNOWN routes, what an id that names nothing gets."""
    if call.victim_slots <= NAMESPACED:
        return None
    reasons = [ANSWERED_AS_UNKNOWN.get((call.op.method, call.op.path, slot))
               for slot in call.victim_slots]
    if reasons and all(reasons):
        return AsUnknown("; ".join(sorted(set(filter(None, reasons)))))
    return by_design(call) or frozenset({400, 404} if call.body_only else {404})


def leaks(call: Call, text: str, victim: Owner, signed_in: bool, sent: str = "") -> list[str]:
    """What of the victim's the answer shows that the caller may not see: private words, and
    ids the caller did not send (in this call, or in `sent`: what it sent before)."""
    found = []
    if victim.private in text:
        found.append("the victim's private words")
    if victim.shared in text and not signed_in:
        found.append("the victim's shared chat")
    sent += call.sent_text()
    for slot, value in victim.slots.items():
        if slot in NAMESPACED | LISTED_SLOTS or (signed_in and slot in SHARED_SLOTS):
            continue
        if isinstance(value, str) and len(value) >= 8 and value in text and value not in sent:
            found.append(f"the victim's {slot} id {value}")
    return found


def _swap(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, old, new) for v in value]
    return value


def with_unknown_ids(call: Call, victim: Owner) -> Call:
    """The call with each of the victim's ids in it replaced by an id that names nothing."""
    url, params, body = call.url, call.params, call.json_body
    for slot in call.victim_slots:
        old, new = str(victim.slots[slot]), f"unknown-{uuid.uuid4().hex}"
        url, params, body = _swap(url, old, new), _swap(params, old, new), _swap(body, old, new)
    return replace(call, url=url, params=params, json_body=body, victim_slots=frozenset())


def _answer(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items()
                     if k not in PER_REQUEST_HEADERS)
    return response.status_code, response.content, headers


def unlike_unknown(client: httpx.Client, call: Call, victim: Owner,
                   response: httpx.Response) -> str | None:
    """How the answer differs from the one an unknown id gets, or None when it is the same."""
    unknown = with_unknown_ids(call, victim)
    assert unknown.sent_text() != call.sent_text(), f"no victim id to replace in {call}"
    mine, theirs = _answer(response), _answer(unknown.send(client))
    if mine == theirs:
        return None
    parts = [name for name, a, b in zip(("status", "body", "headers"), mine, theirs, strict=True)
             if a != b]
    return (f"answers otherwise than for an unknown id ({', '.join(parts)}: {mine[0]} vs "
            f"{theirs[0]}, {mine[2]} vs {theirs[2]})")


def _admin_only_refusal(response: httpx.Response) -> bool:
    """A route for admins refusing a non-admin, whatever it was aimed at: it gave nothing. (Some
    check the role in the handler, where `operations.admin_only` cannot see it: a route with a
    `{url_idx}` serves everyone without it and admins only with it.)"""
    return response.status_code == 403 and ADMIN_ONLY_DETAIL in response.text


def judge(client: httpx.Client, calls: Iterable[Call], expect: Expect, victim: Owner,
          signed_in: bool, sent: str = "") -> list[Verdict]:
    """Send every call (in parallel) and return what went wrong."""

    def one(call: Call) -> Verdict | None:
        try:
            response = call.send(client)
        except httpx.TransportError as exc:
            return Verdict(call, 0, f"no answer: {type(exc).__name__} {exc}")
        text = response.text
        allowed = expect(call)
        problems = []
        if response.status_code >= 500 and response.status_code not in UPSTREAM_STATUSES:
            problems.append("a server error")
        elif isinstance(allowed, AsUnknown):
            problem = unlike_unknown(client, call, victim, response)
            if problem:
                problems.append(problem)
        elif allowed is not None and response.status_code not in allowed \
                and not _admin_only_refusal(response):
            problems.append(f"expected {sorted(allowed)}")
        problems += leaks(call, text, victim, signed_in, sent)
        if problems:
            return Verdict(call, response.status_code, "; ".join(problems) + f" | {text[:300]}")
        return None

    with ThreadPoolExecutor(WORKERS) as pool:
        return [v for v in pool.map(one, list(calls)) if v is not None]
