"""The stack the conformance test prepares (tests/webapp/test_conformance.py), as the operations
of every area (tests/webapp/operations/) reach it."""

from __future__ import annotations

import base64
import copy
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import httpx
import pytest
import socketio

from tests.support.conformance import samples
from tests.support.fullstack import FullStack, full_stack
from tests.support.procs import closed_port
from tests.webapp.fake_build import write_build

MODEL = "gpt-fake"
PRESET = "gpt-fake-helper"
PASSWORD = "correct-horse"
# What the sign-up form sends as `profile_image_url`: an image made in the browser (a 1x1 PNG).
INITIALS_IMAGE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlE"
                  "QVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@dataclass
class World:
    """The stack as the web app finds it after the steps above; `answers` holds the answers of
    the steps that can be taken once only (the first `/api/config`, the sign-up)."""

    stack: FullStack
    client: httpx.Client
    token: str
    user_id: str
    plain_user_id: str  # an account made without a profile image
    chat_id: str
    answers: dict[str, httpx.Response] = field(default_factory=dict)

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def cookie(self) -> dict[str, str]:
        """What the browser sends for `<img>` and `fetch` without a header: the token cookie."""
        return {"Cookie": f"token={self.token}"}

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.client.get(path, params=params, headers=self.bearer())

    def image(self, path: str, **params: str) -> httpx.Response:
        """As `<img>` loads it: the cookie, redirects followed."""
        return self.client.get(path, params=params, headers=self.cookie(), follow_redirects=True)


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, (response.request.method, response.request.url,
                                         response.status_code, response.text[:500])
    return response.json()


def get(path: str, **params: str) -> Callable[[World], httpx.Response]:
    return lambda world: world.get(path, **params)




def fresh_user(world: World) -> dict[str, str]:
    """A new account's bearer header (one that has saved nothing)."""
    account = ok(world.client.post("/api/v1/auths/signup", json={
        "name": "Cy", "email": f"cy-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}))
    return {"Authorization": f"Bearer {account['token']}"}


def _web_app(root: Path) -> Path:
    """A stand-in of the installed web app (the default pictures are in its static folder)."""
    write_build(root)
    picture = base64.b64decode(INITIALS_IMAGE.partition(",")[2])
    for name in ("favicon.png", "user.png"):
        (root / "static" / name).write_bytes(picture)
    return root


def _no_cookies() -> CookieJar:
    """A jar that keeps nothing: every request says itself how it authenticates."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


@contextmanager
def prepared_world(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[World]:
    """The stack as the module docstring of tests/webapp/test_conformance.py describes it."""
    data: Path = tmp_path_factory.mktemp("conformance-data")
    logs: Path = tmp_path_factory.mktemp("conformance-logs")
    # No Ollama answers: the model menu asks for its version all the same.
    build = _web_app(tmp_path_factory.mktemp("conformance-webapp"))
    with full_stack(jwt_secret, data, logs, DEFAULT_USER_ROLE="user",
                    OLLAMA_BASE_URLS=f"http://127.0.0.1:{closed_port()}",
                    FRONTEND_BUILD_DIR=str(build / "frontend"),
                    STATIC_DIR=str(build / "static")) as stack, \
            httpx.Client(base_url=stack.gateway, timeout=60, cookies=_no_cookies()) as client:
        answers = {"config before any account": client.get("/api/config")}
        signup = client.post("/api/v1/auths/signup", json={
            "name": "Ada", "email": "ada@example.com", "password": PASSWORD,
            "profile_image_url": INITIALS_IMAGE})
        answers["signup"] = signup
        admin = ok(signup)
        answers["signin"] = client.post("/api/v1/auths/signin", json={
            "email": "ada@example.com", "password": PASSWORD})
        plain = ok(client.post("/api/v1/auths/signup", json={
            "name": "Bo", "email": "bo@example.com", "password": PASSWORD}))
        world = World(stack, client, str(admin["token"]), str(admin["id"]), str(plain["id"]),
                      "", answers)
        headers = world.bearer()
        with _socket(world) as socket:
            world.chat_id = _first_turn(world, socket.sid if socket else None)
        ok(client.post(f"/api/v1/chats/{world.chat_id}/tags", headers=headers,
                        json={"name": "tag1"}))
        pinned = ok(client.post("/api/v1/chats/new", headers=headers, json={
            "chat": {"title": "a pinned chat", "models": [MODEL]}}))
        ok(client.post(f"/api/v1/chats/{pinned['id']}/pin", headers=headers))
        ok(client.post("/api/v1/folders/", headers=headers, json={"name": "Projects"}))
        _workspace(world)
        yield world


TOOL_SOURCE = '''"""
title: Clock
"""


class Tools:
    def now(self) -> str:
        """The time."""
        return "noon"
'''
FILTER_SOURCE = '''"""
title: Pass-through
"""


class Filter:
    def inlet(self, body: dict) -> dict:
        return body
'''


def _workspace(world: World) -> None:
    """One of each thing the lists above show, so that no list is compared empty: a tool, a
    filter function, a model preset and a knowledge collection, all the admin's."""
    post, headers = world.client.post, world.bearer()
    ok(post("/api/v1/tools/create", headers=headers, json={
        "id": "clock", "name": "Clock", "content": TOOL_SOURCE, "access_grants": [],
        "meta": {"description": "Tells the time"}}))
    ok(post("/api/v1/functions/create", headers=headers, json={
        "id": "pass_through", "name": "Pass-through", "content": FILTER_SOURCE,
        "meta": {"description": "Changes nothing"}}))
    ok(post("/api/v1/models/create", headers=headers, json={
        "id": PRESET, "base_model_id": MODEL, "name": "Helper",
        "params": {"system": "Be brief."}, "access_grants": [],
        "meta": {"description": "A preset", "tags": [{"name": "demo"}],
                 "profile_image_url": INITIALS_IMAGE}}))
    ok(post("/api/v1/knowledge/create", headers=headers, json={
        "name": "Docs", "description": "Manuals", "access_grants": []}))


@contextmanager
def _socket(world: World) -> Iterator[socketio.SimpleClient | None]:
    """The app's socket.io connection (its id goes into the turn's body); None when the stack
    has none yet, so that the turn's own operation reports it rather than every operation."""
    client = socketio.SimpleClient()
    try:
        client.connect(world.stack.gateway, socketio_path="/ws/socket.io",
                       transports=["websocket"], headers=world.cookie(),
                       auth={"token": world.token}, wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        yield None
        return
    try:
        client.emit("user-join", {"auth": {"token": world.token}})
        yield client
    finally:
        client.disconnect()


def _first_turn(world: World, session_id: str | None) -> str:
    """The first message of a new chat, sent as the app sends it (the samples' body, our ids and
    model); the chat's id once the answer is stored. Should the 0.12 turn not be served, the chat
    is made through our own turn route, so that the other operations still have one."""
    body = copy.deepcopy(samples()["POST /api/chat/completions (0.12 web-app body)"])
    answer_id, question_id = str(uuid.uuid4()), str(uuid.uuid4())
    body.update(model=MODEL, id=answer_id, session_id=session_id or "no-socket")
    body["user_message"].update(id=question_id, childrenIds=[answer_id], models=[MODEL],
                                timestamp=int(time.time()))
    answer = world.client.post("/api/chat/completions", headers=world.bearer(), json=body)
    world.answers["turn"] = answer
    try:
        started = answer.json() if answer.status_code == 200 else {}
    except ValueError:  # an SSE stream: not the 0.12 answer
        started = {}
    if not isinstance(started, dict) or not started.get("chat_id"):
        chat = ok(world.client.post("/api/v1/chats/new", headers=world.bearer(), json={
            "chat": {"title": "hello from a socket client", "models": [MODEL]}}))
        ok(world.client.post(f"/api/v1/chats/{chat['id']}/completions",
                              headers=world.bearer(),
                              json={"model": MODEL, "content": "hello", "stream": False}))
        return str(chat["id"])
    chat_id = str(started["chat_id"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = world.get(f"/api/v1/chats/{chat_id}")
        if stored.status_code == 200:
            message = stored.json()["chat"].get("history", {}).get("messages", {}).get(answer_id)
            if message and message.get("done"):
                return chat_id
        time.sleep(0.2)
    raise AssertionError(f"the answer of the first turn ({chat_id}) was not stored in 60 s")
