"""The resources of the matrix: a hand table of how to make one of each type for a user, the
values that name them (the "slots" a route's parameters are filled from), and how the owner
reads them back to prove that nothing changed."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import bearer

# Every resource type of the issue, by the slot name the requests use for it.
RESOURCE_TYPES = ("user", "key", "chat", "message", "folder", "tag", "share", "preferences",
                  "preset", "connection", "file", "knowledge", "tool", "function", "task",
                  "run", "session")
# Made by the admin on the owner's side: users may not create these.
ADMIN_MADE = ("connection", "tool", "function")
TOOL_SOURCE = '''"""
title: Private tool
"""


class Tools:
    def secret(self) -> str:
        """Say the word."""
        return "{marker}"
'''
FILTER_SOURCE = '''"""
title: Private filter
"""


class Filter:
    def inlet(self, body: dict) -> dict:
        return body  # {marker}
'''


# A 1x1 PNG: a preset's picture is its bytes with the owner's secret words after them, so that
# an answer showing someone's picture shows their words (a PNG reader ignores what follows).
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                         "hgGAWjR9awAAAABJRU5ErkJggg==")


def picture(words: str) -> str:
    """A `data:` URL of a picture whose bytes hold `words`."""
    return "data:image/png;base64," + base64.b64encode(PIXEL + words.encode()).decode()


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), (response.request.method,
                                                          response.request.url, response.text)
    return response.json()


@dataclass
class Owner:
    """A signed-in user, the secret words hidden in their resources, and the slots naming
    those resources."""

    name: str
    client: httpx.Client
    id: str
    email: str
    # Words only the owner may ever see, and words a share link shows any signed-in user.
    private: str = field(default_factory=lambda: f"privatesecret{uuid.uuid4().hex[:12]}")
    shared: str = field(default_factory=lambda: f"sharedsecret{uuid.uuid4().hex[:12]}")
    slots: dict[str, Any] = field(default_factory=dict)


def sign_in(gateway: str, email: str, password: str) -> dict[str, Any]:
    return ok(httpx.post(f"{gateway}/api/v1/auths/signin",
                         json={"email": email, "password": password}))


def client_for(gateway: str, token: str | None) -> httpx.Client:
    headers = bearer(token) if token else {}
    return httpx.Client(base_url=gateway, headers=headers, timeout=60)


def owner(gateway: str, name: str, *, token: str | None = None) -> Owner:
    """A new account (or, with `token`, the account it signs in)."""
    if token is None:
        email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@authz.test"
        session = ok(httpx.post(f"{gateway}/api/v1/auths/signup", json={
            "name": name, "email": email, "password": "correct-horse"}))
        token = session["token"]
    client = client_for(gateway, token)
    me = ok(client.get("/api/v1/auths/"))
    made = Owner(name, client, me["id"], me["email"])
    made.slots["user"] = me["id"]
    return made


def _wait(client: httpx.Client, path: str, done: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = ok(client.get(path))
        state = body.get("status") or body.get("data", {}).get("status")
        if state in done:
            return body
        time.sleep(0.1)
    raise TimeoutError(f"{path} never reached {done}")


def make_user_resources(who: Owner, provider_model: str) -> None:
    """Everything a plain user can own, each holding `who.private` (the chat's first messages
    hold `who.shared`: its share link shows them)."""
    c, s, secret = who.client, who.slots, who.private
    s["key"] = ok(c.post("/api/v1/auths/api_keys", json={"name": secret}), 201)["id"]
    chat = ok(c.post("/api/v1/chats/new", json={"chat": {
        "title": f"chat {who.shared}", "models": [provider_model], "history": {
            "currentId": "m1", "messages": {"m1": {
                "id": "m1", "parentId": None, "childrenIds": [], "role": "user",
                "content": f"first {who.shared}", "timestamp": 1_700_000_000}}}}}))
    s["chat"] = chat["id"]
    s["tag"] = f"tag{uuid.uuid4().hex[:8]}"
    ok(c.post(f"/api/v1/chats/{s['chat']}/tags", json={"name": s["tag"]}))
    s["share"] = ok(c.post(f"/api/v1/chats/{s['chat']}/share"))["share_id"]
    # Written after the share: the link must not show it.
    s["message"] = ok(c.post(f"/api/v1/chats/{s['chat']}/messages", json={
        "id": f"msg{uuid.uuid4().hex}", "parentId": "m1", "role": "user",
        "content": f"after the share {secret}"}))["id"]
    s["folder"] = ok(c.post("/api/v1/folders/", json={"name": f"folder {secret}"}))["id"]
    ok(c.post(f"/api/v1/chats/{s['chat']}/folder", json={"folder_id": s["folder"]}))
    ok(c.post("/api/v1/users/user/settings/update", json={"ui": {"note": secret}}))
    ok(c.post("/api/v1/chats/preferences", json={"system_prompt": secret}))
    s["preferences"] = who.id
    s["preset"] = f"preset-{uuid.uuid4().hex[:10]}"
    ok(c.post("/api/v1/models/create", json={
        "id": s["preset"], "base_model_id": provider_model, "name": f"preset {secret}",
        "params": {"system": secret}, "meta": {"profile_image_url": picture(secret)},
        "access_grants": []}))
    file = ok(c.post("/api/v1/files/", params={"process_in_background": "false"},
                     files={"file": (f"{secret}.txt", f"The file says {secret}.".encode(),
                                     "text/plain")}))
    s["file"], s["job"] = file["id"], file["job_id"]
    s["knowledge"] = ok(c.post("/api/v1/knowledge/create", json={
        "name": f"knowledge {secret}", "description": secret, "access_grants": []}))["id"]
    ok(c.post(f"/api/v1/knowledge/{s['knowledge']}/file/add", json={"file_id": s["file"]}))
    s["task"] = ok(c.post("/api/v1/agents/tasks", json={"kind": "title", "body": {
        "model": provider_model, "messages": [{"role": "user", "content": secret}]}}),
        202)["id"]
    s["workflow"] = ok(c.post("/api/v1/agents/workflows", json={
        "name": f"workflow {secret}",
        "steps": [{"id": "say", "type": "code", "code": f"print('{secret}')"}]}))["id"]
    s["run"] = ok(c.post(f"/api/v1/agents/workflows/{s['workflow']}/runs", json={}), 202)["id"]
    s["session"] = f"sess{uuid.uuid4().hex[:12]}"
    ok(c.post("/api/v1/agents/code/execute", json={"code": f"secret = '{secret}'",
                                                   "session_id": s["session"]}))
    _wait(c, f"/api/v1/agents/tasks/{s['task']}", ("completed", "failed"))
    _wait(c, f"/api/v1/agents/workflows/runs/{s['run']}", ("completed", "failed"))


def make_admin_resources(admin: httpx.Client, who: Owner, provider_url: str) -> None:
    """What only admins create, kept private, on `who`'s side of the matrix."""
    s, secret = who.slots, who.private
    s["connection"] = ok(admin.post("/api/v1/inference/connections", json={
        "provider": "openai", "url": f"{provider_url}/v1", "name": f"conn{uuid.uuid4().hex[:6]}",
        "api_key": secret, "prefix_id": f"p{uuid.uuid4().hex[:6]}"}), 201)["id"]
    s["external_connection"] = ok(admin.post("/api/v1/knowledge/external/connections", json={
        "name": f"archive {secret}", "provider": "qdrant", "endpoint": "http://127.0.0.1:9",
        "auth_config": {"api_key": secret}}))["id"]
    s["tool"] = f"tool_{uuid.uuid4().hex[:10]}"
    ok(admin.post("/api/v1/tools/create", json={
        "id": s["tool"], "name": f"tool {secret}", "access_grants": [],
        "content": TOOL_SOURCE.format(marker=secret), "meta": {"description": secret}}))
    s["function"] = f"function_{uuid.uuid4().hex[:10]}"
    ok(admin.post("/api/v1/functions/create", json={
        "id": s["function"], "name": f"function {secret}",
        "content": FILTER_SOURCE.format(marker=secret), "meta": {"description": secret}}))


# Fields that move on their own (clocks, connection health), not because anyone changed a thing.
VOLATILE = frozenset({"idle_seconds", "last_active_at", "status", "error", "models",
                      "in_flight", "latency_ms"})


def _steady(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def read_back(who: Owner, admin: httpx.Client) -> dict[str, Any]:
    """Everything of `who`'s as its owner (or, for admin-made things, the admin) reads it."""
    s = who.slots
    reads: list[tuple[httpx.Client, str]] = [
        (who.client, "/api/v1/auths/"), (who.client, "/api/v1/auths/api_keys"),
        (admin, f"/api/v1/users/{s['user']}"),
        (who.client, f"/api/v1/chats/{s['chat']}"),
        (who.client, f"/api/v1/chats/{s['chat']}/messages"),
        (who.client, f"/api/v1/chats/{s['chat']}/tags"),
        (who.client, f"/api/v1/chats/{s['chat']}/pinned"),
        (who.client, "/api/v1/chats/all/tags"),
        (who.client, f"/api/v1/folders/{s['folder']}"),
        (who.client, "/api/v1/chats/shared"), (who.client, f"/api/v1/chats/share/{s['share']}"),
        (who.client, "/api/v1/users/user/settings"), (who.client, "/api/v1/chats/preferences"),
        (who.client, f"/api/v1/models/model?id={s['preset']}"),
        (who.client, f"/api/v1/files/{s['file']}"),
        (who.client, f"/api/v1/files/{s['file']}/content"),
        (who.client, f"/api/v1/retrieval/jobs/{s['job']}"),
        (who.client, f"/api/v1/knowledge/{s['knowledge']}"),
        (who.client, f"/api/v1/agents/tasks/{s['task']}"),
        (who.client, f"/api/v1/agents/workflows/{s['workflow']}"),
        (who.client, f"/api/v1/agents/workflows/runs/{s['run']}"),
        (who.client, "/api/v1/agents/code/sessions"),
    ]
    if "connection" in s:
        reads += [(admin, f"/api/v1/inference/connections/{s['connection']}"),
                  (admin, f"/api/v1/tools/id/{s['tool']}"),
                  (admin, f"/api/v1/tools/id/{s['tool']}/valves"),
                  (admin, f"/api/v1/functions/id/{s['function']}"),
                  (admin, f"/api/v1/functions/id/{s['function']}/valves")]
    state: dict[str, Any] = {}
    for client, path in reads:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        body = response.json() if "json" in response.headers.get("content-type", "") \
            else response.text
        state[path] = _steady(body)
    return state
