"""Every call Open WebUI's web app makes on load, on the chat page and from the model menu (and
the `page` rows of the operations table) answers as Open WebUI's does: same status, every key of
Open WebUI's answer with the same JSON type (the rule: tests/support/conformance.py).

One real stack (the five services behind the gateway, a stand-in OpenAI provider serving models,
no Ollama answering) is prepared once, as the web app would find it: the first call is
`/api/config` before any account exists, then the first admin signs up as the app does, has a
chat with an answer and a tag, a pinned chat and a folder. Later issues add their operations to
OPERATIONS."""

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

from tests.support.conformance import (
    Cookie,
    Image,
    Layout,
    Operation,
    Sample,
    Schema,
    Shape,
    check_schema,
    compare,
    problems_of,
    report,
    response_schema,
    samples,
)
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


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, (response.request.method, response.request.url,
                                         response.status_code, response.text[:500])
    return response.json()


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


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[World]:
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
        admin = _ok(signup)
        answers["signin"] = client.post("/api/v1/auths/signin", json={
            "email": "ada@example.com", "password": PASSWORD})
        plain = _ok(client.post("/api/v1/auths/signup", json={
            "name": "Bo", "email": "bo@example.com", "password": PASSWORD}))
        world = World(stack, client, str(admin["token"]), str(admin["id"]), str(plain["id"]),
                      "", answers)
        headers = world.bearer()
        with _socket(world) as socket:
            world.chat_id = _first_turn(world, socket.sid if socket else None)
        _ok(client.post(f"/api/v1/chats/{world.chat_id}/tags", headers=headers,
                        json={"name": "tag1"}))
        pinned = _ok(client.post("/api/v1/chats/new", headers=headers, json={
            "chat": {"title": "a pinned chat", "models": [MODEL]}}))
        _ok(client.post(f"/api/v1/chats/{pinned['id']}/pin", headers=headers))
        _ok(client.post("/api/v1/folders/", headers=headers, json={"name": "Projects"}))
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
    _ok(post("/api/v1/tools/create", headers=headers, json={
        "id": "clock", "name": "Clock", "content": TOOL_SOURCE, "access_grants": [],
        "meta": {"description": "Tells the time"}}))
    _ok(post("/api/v1/functions/create", headers=headers, json={
        "id": "pass_through", "name": "Pass-through", "content": FILTER_SOURCE,
        "meta": {"description": "Changes nothing"}}))
    _ok(post("/api/v1/models/create", headers=headers, json={
        "id": PRESET, "base_model_id": MODEL, "name": "Helper",
        "params": {"system": "Be brief."}, "access_grants": [],
        "meta": {"description": "A preset", "tags": [{"name": "demo"}],
                 "profile_image_url": INITIALS_IMAGE}}))
    _ok(post("/api/v1/knowledge/create", headers=headers, json={
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
        chat = _ok(world.client.post("/api/v1/chats/new", headers=world.bearer(), json={
            "chat": {"title": "hello from a socket client", "models": [MODEL]}}))
        _ok(world.client.post(f"/api/v1/chats/{chat['id']}/completions",
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


def _fresh_user(world: World) -> dict[str, str]:
    """A new account's bearer header (one that has saved nothing)."""
    account = _ok(world.client.post("/api/v1/auths/signup", json={
        "name": "Cy", "email": f"cy-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}))
    return {"Authorization": f"Bearer {account['token']}"}


def _get(path: str, **params: str) -> Callable[[World], httpx.Response]:
    return lambda world: world.get(path, **params)


# The chat page's message tree: messages are keyed by id, and a user message and an answer
# differ in their keys.
CHAT_LAYOUT = Layout(maps={"$.chat.history.messages": ()},
                     variants={"$.chat.history.messages": "role", "$.chat.messages": "role"},
                     may_be_empty={"$.chat.history.messages.*.followUps":
                                   "the suggestions are the provider's answer to the follow-up "
                                   "task; Open WebUI's stand-in gave three, ours gives prose"})

OPERATIONS: list[Operation] = [
    # ---- before sign-in, and signing in ---------------------------------------------------
    Operation("GET", "/api/config", "gateway", Sample("GET /api/config (no token, no users)"),
              lambda w: w.answers["config before any account"], label="no account yet"),
    Operation("POST", "/api/v1/auths/signup", "gateway",
              Sample("POST /api/v1/auths/signup -> body"), lambda w: w.answers["signup"]),
    Operation("POST", "/api/v1/auths/signup", "gateway",
              Cookie("POST /api/v1/auths/signup -> set-cookie"), lambda w: w.answers["signup"],
              label="token cookie"),
    # Open WebUI answers sign-in as sign-up (SessionUserResponse); the sample is the sign-up's.
    Operation("POST", "/api/v1/auths/signin", "gateway",
              Sample("POST /api/v1/auths/signup -> body"), lambda w: w.answers["signin"]),
    Operation("POST", "/api/v1/auths/signin", "gateway",
              Cookie("POST /api/v1/auths/signup -> set-cookie"), lambda w: w.answers["signin"],
              label="token cookie"),
    Operation("GET", "/api/version", "gateway", Sample("GET /api/version"),
              lambda w: w.client.get("/api/version",
                                     headers={"Authorization": "Bearer undefined"}),
              label="before sign-in: Bearer undefined"),
    # ---- on every load ----------------------------------------------------------------------
    Operation("GET", "/api/config", "gateway", Sample("GET /api/config (token)"),
              lambda w: w.client.get("/api/config", headers=w.bearer()), label="token"),
    # The app's first call sends no header; the browser sends the cookie. (The sample "no
    # token, after first user" was taken so: its client held the sign-up's cookie.)
    Operation("GET", "/api/config", "gateway",
              Sample("GET /api/config (no token, after first user)"),
              lambda w: w.client.get("/api/config", headers=w.cookie()),
              label="no header, the cookie"),
    # Neither header nor cookie: the public part, as before the first account but onboarding.
    Operation("GET", "/api/config", "gateway",
              Sample("GET /api/config (no token, no users)", drop=("onboarding",)),
              lambda w: w.client.get("/api/config"), label="no token"),
    Operation("GET", "/api/version", "gateway", Sample("GET /api/version"),
              lambda w: w.client.get("/api/version", headers=w.bearer()), label="token"),
    Operation("GET", "/api/changelog", "gateway", Sample("GET /api/changelog (first entry only)"),
              lambda w: w.client.get("/api/changelog"),
              layout=Layout(maps={"$": (), "$.*": ("date",)})),  # versions, then sections
    Operation("GET", "/api/v1/auths/", "gateway", Schema(), _get("/api/v1/auths/")),
    Operation("POST", "/api/v1/auths/update/timezone", "gateway",
              Shape({"status": True}, "Open WebUI's update_timezone answers {status: true}"),
              lambda w: w.client.post("/api/v1/auths/update/timezone", headers=w.bearer(),
                                      json={"timezone": "Europe/Paris"})),
    Operation("GET", "/api/v1/configs/banners", "gateway", Schema(),
              _get("/api/v1/configs/banners")),
    Operation("GET", "/api/v1/users/user/settings", "chat",
              Sample("GET /api/v1/users/user/settings (fresh)"),
              _get("/api/v1/users/user/settings")),
    Operation("GET", "/api/models", "inference", Sample("GET /api/models"), _get("/api/models")),
    Operation("GET", "/api/v1/tools/", "agent", Schema(), _get("/api/v1/tools/")),
    Operation("GET", "/api/v1/functions/", "agent", Schema(), _get("/api/v1/functions/")),
    Operation("GET", "/api/v1/chats/", "chat", Sample("GET /api/v1/chats/?page=1"),
              _get("/api/v1/chats/", page="1")),
    Operation("GET", "/api/v1/chats/pinned", "chat", Schema(), _get("/api/v1/chats/pinned")),
    Operation("GET", "/api/v1/chats/all/tags", "chat", Schema(), _get("/api/v1/chats/all/tags")),
    Operation("GET", "/api/v1/folders/", "chat", Schema(), _get("/api/v1/folders/")),
    Operation("GET", "/api/v1/folders/shared", "chat",
              Shape([], "Open WebUI 0.12 lists the folders shared with the user; none here"),
              _get("/api/v1/folders/shared")),
    Operation("GET", "/api/v1/notes/pinned", "chat", Schema(), _get("/api/v1/notes/pinned")),
    Operation("GET", "/api/v1/users/{user_id}/profile/image", "gateway", Image(),
              lambda w: w.image(f"/api/v1/users/{w.user_id}/profile/image"),
              label="set at sign-up, the cookie"),
    Operation("GET", "/api/v1/users/{user_id}/profile/image", "gateway", Image(),
              lambda w: w.image(f"/api/v1/users/{w.plain_user_id}/profile/image"),
              label="none set: the default image"),
    Operation("GET", "/api/v1/models/model/profile/image", "inference", Image(),
              lambda w: w.image("/api/v1/models/model/profile/image", id=MODEL),
              label="a provider's model: the default image"),
    Operation("GET", "/api/v1/models/model/profile/image", "inference", Image(),
              lambda w: w.image("/api/v1/models/model/profile/image", id=PRESET),
              label="a preset's own image"),
    # ---- the chat page ----------------------------------------------------------------------
    Operation("POST", "/api/chat/completions", "chat",
              Sample("POST /api/chat/completions -> response"), lambda w: w.answers["turn"],
              label="0.12 web-app body, new chat"),
    Operation("GET", "/api/v1/chats/{id}", "chat", Sample("GET /api/v1/chats/{id} after the turn"),
              lambda w: w.get(f"/api/v1/chats/{w.chat_id}"), layout=CHAT_LAYOUT),
    Operation("GET", "/api/v1/chats/{id}/tags", "chat", Schema(),
              lambda w: w.get(f"/api/v1/chats/{w.chat_id}/tags")),
    Operation("GET", "/api/tasks/chat/{chat_id}", "chat", Sample("GET /api/tasks/chat/{id}"),
              lambda w: w.get(f"/api/tasks/chat/{w.chat_id}")),
    # ---- the model menu ---------------------------------------------------------------------
    Operation("GET", "/openai/config", "inference",
              Shape({"ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": ["https://x/v1"],
                     "OPENAI_API_KEYS": [""], "OPENAI_API_CONFIGS": {}},
                    "Open WebUI's OpenAI connections config (read by an admin)"),
              _get("/openai/config")),
    Operation("GET", "/ollama/api/version", "inference",
              Shape({"version": False}, "Open WebUI answers {version: false} with Ollama off; "
                    "its model menu takes a failure (no Ollama answering) as the same"),
              _get("/ollama/api/version"), label="no Ollama answers"),
    # ---- pages (operations table, `page` rows) ----------------------------------------------
    Operation("GET", "/api/v1/functions/list", "agent", Schema(), _get("/api/v1/functions/list")),
    Operation("GET", "/api/v1/tools/list", "agent", Schema(), _get("/api/v1/tools/list")),
    Operation("GET", "/api/v1/notes/search", "chat", Schema(), _get("/api/v1/notes/search"),
              pending="issue 17 (notes)"),
    Operation("GET", "/api/v1/prompts/list", "chat", Schema(), _get("/api/v1/prompts/list"),
              pending="issue 17 (prompts)"),
    Operation("GET", "/api/v1/prompts/tags", "chat", Schema(), _get("/api/v1/prompts/tags"),
              pending="issue 17 (prompts)"),
    Operation("GET", "/api/v1/auths/admin/config", "gateway",
              Shape({"SHOW_ADMIN_DETAILS": True, "ENABLE_SIGNUP": True,
                     "DEFAULT_USER_ROLE": "pending", "JWT_EXPIRES_IN": "4w",
                     "ENABLE_COMMUNITY_SHARING": True, "ENABLE_MESSAGE_RATING": True},
                    "Open WebUI's admin config: the long-standing keys its general settings "
                    "page reads (a subset)"),
              _get("/api/v1/auths/admin/config"), pending="issue 18 (administration)"),
    Operation("GET", "/api/v1/groups/", "gateway", Schema(), _get("/api/v1/groups/"),
              pending="issue 18 (groups)"),
    Operation("GET", "/api/v1/users/", "gateway", Schema(), _get("/api/v1/users/")),
    Operation("GET", "/api/v1/models/list", "inference", Schema(), _get("/api/v1/models/list")),
    Operation("GET", "/api/v1/models/tags", "inference", Schema(), _get("/api/v1/models/tags")),
    Operation("GET", "/api/v1/knowledge/search", "retrieval", Schema(),
              _get("/api/v1/knowledge/search"), pending="issue 17 (knowledge)"),
]


def test_every_operation_is_in_open_webuis_document() -> None:
    for operation in OPERATIONS:
        response_schema(operation.method, operation.path)  # raises for a path not there


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
def test_answers_as_open_webui(world: World, operation: Operation) -> None:
    response = operation.call(world)
    if operation.pending and response.status_code == 404:
        pytest.xfail(f"{operation.name} is not served yet: {operation.pending}")
    problems = problems_of(operation, response)
    assert not problems, report(operation, problems)


def test_settings_of_a_fresh_user_are_null(world: World) -> None:
    """Beyond the shape (the schema allows an object too): Open WebUI answers null for a user
    who never saved settings, and the issue asks the same."""
    answer = world.client.get("/api/v1/users/user/settings", headers=_fresh_user(world))
    assert answer.status_code == 200, answer.text
    assert answer.json() is None, answer.text


# ---- the comparison itself (no stack) ---------------------------------------------------------


def test_every_missing_key_and_wrong_type_is_named_at_once() -> None:
    sample = {"a": 1, "b": {"c": "x", "d": [True]}, "e": 1.5}
    assert compare({"b": {"c": 2, "d": [True, "no"]}, "e": 2, "extra": None}, sample, None) == [
        "$.a: missing (integer)", "$.b.c: string expected, got integer 2",
        "$.b.d[1]: boolean expected, got string \"no\""]
    assert compare({"a": 1.0}, {"a": 1}, None) == ["$.a: integer expected, got number 1.0"]


def test_a_null_in_the_sample_takes_its_type_from_the_schema() -> None:
    schema = {"type": "object", "properties": {"v": {"anyOf": [{"type": "string"},
                                                               {"type": "null"}]}}}
    assert compare({"v": "s"}, {"v": None}, schema) == []
    assert compare({"v": None}, {"v": None}, schema) == []
    assert compare({"v": 3}, {"v": None}, schema) == ["$.v: null or string expected, got integer 3"]
    # No schema says what else it may be: only null matches.
    assert compare({"v": "s"}, {"v": None}, None)[0].startswith("$.v: null expected")
    assert compare({}, {"v": None}, schema) == ["$.v: missing (null or string)"]


def test_lists_maps_and_kinds() -> None:
    assert compare([], [{"id": "x"}], None) == [
        "$: empty list, where Open WebUI's has items (nothing to compare)"]
    assert compare([{"id": "a"}, {}], [{"id": "x"}], None) == ["$[1].id: missing (string)"]
    layout = Layout(maps={"$": ("date",), "$.*": ()},
                    variants={"$.*": "role"})
    sample = {"date": "d", "m1": {"role": "user", "u": 1}, "m2": {"role": "bot", "b": 1}}
    assert compare({"date": "d", "x": {"role": "bot", "b": 2}, "y": {"role": "tool"}},
                   sample, None, Layout(maps={"$": ("date",)}, variants={"$": "role"})) == []
    assert compare({"x": {"role": "user"}}, sample, None,
                   Layout(maps={"$": ("date",)}, variants={"$": "role"})) == [
        "$.date: missing (string)", "$.x.u: missing (integer)"]
    assert layout.maps["$"] == ("date",)


def test_schema_required_properties_refs_and_branches() -> None:
    schema = response_schema("GET", "/api/v1/chats/")  # list of ChatTitleIdResponse
    assert check_schema([{"id": "a", "title": "t", "updated_at": 1, "created_at": 1}], schema) == []
    assert check_schema([{"id": "a", "title": 5, "updated_at": 1}], schema) == [
        "$[0].created_at: missing (integer)", "$[0].title: string expected, got integer 5"]
    assert check_schema([{"id": "a", "title": "t", "updated_at": 1, "created_at": 1,
                          "snippet": 3}], schema) == [
        "$[0].snippet: null or string expected, got integer 3"]
    assert check_schema(None, response_schema("GET", "/api/v1/users/user/settings")) == []
