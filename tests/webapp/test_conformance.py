"""Every call Open WebUI's web app makes on load, on the chat page and from the model menu (and
the `page` rows of the operations table) answers as Open WebUI's does: same status, every key of
Open WebUI's answer with the same JSON type (the rule: tests/support/conformance.py).

One real stack (the five services behind the gateway, a stand-in OpenAI provider serving models,
no Ollama answering) is prepared once, as the web app would find it: the first call is
`/api/config` before any account exists, then the first admin signs up as the app does, has a
chat with an answer and a tag, a pinned chat and a folder (tests/webapp/world.py). Each area adds
its operations in a module of its own under tests/webapp/operations/."""

from __future__ import annotations

import pytest

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
)
from tests.webapp import operations
from tests.webapp.world import MODEL, PRESET, World, fresh_user, get

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
    Operation("GET", "/api/v1/auths/", "gateway", Schema(), get("/api/v1/auths/")),
    Operation("POST", "/api/v1/auths/update/timezone", "gateway",
              Shape({"status": True}, "Open WebUI's update_timezone answers {status: true}"),
              lambda w: w.client.post("/api/v1/auths/update/timezone", headers=w.bearer(),
                                      json={"timezone": "Europe/Paris"})),
    Operation("GET", "/api/v1/configs/banners", "gateway", Schema(),
              get("/api/v1/configs/banners")),
    Operation("GET", "/api/v1/users/user/settings", "chat",
              Sample("GET /api/v1/users/user/settings (fresh)"),
              get("/api/v1/users/user/settings")),
    Operation("GET", "/api/models", "inference", Sample("GET /api/models"), get("/api/models")),
    Operation("GET", "/api/v1/tools/", "agent", Schema(), get("/api/v1/tools/")),
    Operation("GET", "/api/v1/functions/", "agent", Schema(), get("/api/v1/functions/")),
    Operation("GET", "/api/v1/chats/", "chat", Sample("GET /api/v1/chats/?page=1"),
              get("/api/v1/chats/", page="1")),
    Operation("GET", "/api/v1/chats/pinned", "chat", Schema(), get("/api/v1/chats/pinned")),
    Operation("GET", "/api/v1/chats/all/tags", "chat", Schema(), get("/api/v1/chats/all/tags")),
    Operation("GET", "/api/v1/folders/", "chat", Schema(), get("/api/v1/folders/")),
    Operation("GET", "/api/v1/folders/shared", "chat",
              Shape([], "Open WebUI 0.12 lists the folders shared with the user; none here"),
              get("/api/v1/folders/shared")),
    Operation("GET", "/api/v1/notes/pinned", "chat", Schema(), get("/api/v1/notes/pinned")),
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
              get("/openai/config")),
    Operation("GET", "/ollama/api/version", "inference",
              Shape({"version": False}, "Open WebUI answers {version: false} with Ollama off; "
                    "its model menu takes a failure (no Ollama answering) as the same"),
              get("/ollama/api/version"), label="no Ollama answers"),
    # ---- pages (operations table, `page` rows) ----------------------------------------------
    Operation("GET", "/api/v1/functions/list", "agent", Schema(), get("/api/v1/functions/list")),
    Operation("GET", "/api/v1/tools/list", "agent", Schema(), get("/api/v1/tools/list")),
    Operation("GET", "/api/v1/notes/search", "chat", Schema(), get("/api/v1/notes/search"),
              pending="issue 17 (notes)"),
    Operation("GET", "/api/v1/prompts/list", "chat", Schema(), get("/api/v1/prompts/list"),
              pending="issue 17 (prompts)"),
    Operation("GET", "/api/v1/prompts/tags", "chat", Schema(), get("/api/v1/prompts/tags"),
              pending="issue 17 (prompts)"),
    Operation("GET", "/api/v1/auths/admin/config", "gateway",
              Shape({"SHOW_ADMIN_DETAILS": True, "ENABLE_SIGNUP": True,
                     "DEFAULT_USER_ROLE": "pending", "JWT_EXPIRES_IN": "4w",
                     "ENABLE_COMMUNITY_SHARING": True, "ENABLE_MESSAGE_RATING": True},
                    "Open WebUI's admin config: the long-standing keys its general settings "
                    "page reads (a subset)"),
              get("/api/v1/auths/admin/config"), pending="issue 18 (administration)"),
    Operation("GET", "/api/v1/groups/", "gateway", Schema(), get("/api/v1/groups/"),
              pending="issue 18 (groups)"),
    Operation("GET", "/api/v1/users/", "gateway", Schema(), get("/api/v1/users/")),
    Operation("GET", "/api/v1/models/list", "inference", Schema(), get("/api/v1/models/list")),
    Operation("GET", "/api/v1/models/tags", "inference", Schema(), get("/api/v1/models/tags")),
    Operation("GET", "/api/v1/knowledge/search", "retrieval", Schema(),
              get("/api/v1/knowledge/search"), pending="issue 17 (knowledge)"),
]
OPERATIONS += operations.collected()


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
    answer = world.client.get("/api/v1/users/user/settings", headers=fresh_user(world))
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
