"""The Workspace's tools and functions as the web app's editor uses them (versions, export,
import from a link, sync), the Action button, Pipelines without a Pipelines server, the task
and code execution settings (live, no restart), and bad input: a clear error, nothing stored."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.agent.conftest import MODEL, AgentStack
from tests.support.procs import closed_port

SOURCE = '''"""
title: Greeter
"""
from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        greeting: str = "Hello"

    def __init__(self):
        self.valves = self.Valves()

    def greet(self, who: str) -> str:
        """
        Greet someone.
        :param who: Whom to greet.
        """
        return f"{self.valves.greeting}, {who}"
'''
ACTION = '''
class Action:
    async def action(self, body: dict, __id__: str = None, __user__: dict = None) -> dict:
        if body.get("fail"):
            raise RuntimeError("asked to fail")
        return {"id": __id__, "messages": len(body["messages"]), "role": __user__["role"]}
'''
FILTER = '''
class Filter:
    def inlet(self, body: dict) -> dict:
        return body
'''
TOGGLED = '''
class Filter:
    def __init__(self):
        self.toggle = True

    def inlet(self, body: dict) -> dict:
        return body
'''


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.text)
    return response.json()


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def tool_form(tool_id: str, content: str = SOURCE, **extra: object) -> dict[str, Any]:
    return {"id": tool_id, "name": "Greeter", "content": content,
            "meta": {"description": "Greets"}, **extra}


@pytest.fixture
def tool_id(admin_client: httpx.Client) -> Iterator[str]:
    found = unique("greeter")
    ok(admin_client.post("/api/v1/tools/create", json=tool_form(found, access_grants=[])))
    yield found
    admin_client.delete(f"/api/v1/tools/id/{found}/delete")


def history(client: httpx.Client, tool_id: str) -> list[dict[str, Any]]:
    return ok(client.get(f"/api/v1/tools/id/{tool_id}/history"))


def test_every_save_that_changes_the_tool_is_a_version(admin_client: httpx.Client,
                                                       tool_id: str) -> None:
    first = history(admin_client, tool_id)
    assert len(first) == 1 and first[0]["parent_id"] is None
    assert ok(admin_client.get(f"/api/v1/tools/id/{tool_id}"))["version_id"] == first[0]["id"]
    changed = tool_form(tool_id, SOURCE.replace('"Hello"', '"Hi"'), commit_message="shorter")
    saved = ok(admin_client.post(f"/api/v1/tools/id/{tool_id}/update", json=changed))
    again = ok(admin_client.post(f"/api/v1/tools/id/{tool_id}/update", json=changed))
    versions = history(admin_client, tool_id)
    assert len(versions) == 2, "saving the same thing again is no new version"
    newest, oldest = versions
    assert saved["version_id"] == again["version_id"] == newest["id"]
    assert newest["parent_id"] == oldest["id"] and newest["commit_message"] == "shorter"
    assert newest["user"] == {"name": "Admin"}
    diff = ok(admin_client.get(f"/api/v1/tools/id/{tool_id}/history/diff",
                               params={"from_id": oldest["id"], "to_id": newest["id"]}))
    assert '-        greeting: str = "Hello"' in diff["content_diff"]
    assert '+        greeting: str = "Hi"' in diff["content_diff"] and diff["metadata"] == {}
    entry = ok(admin_client.get(f"/api/v1/tools/id/{tool_id}/history/{oldest['id']}"))
    assert entry["snapshot"]["content"] == SOURCE
    assert admin_client.delete(
        f"/api/v1/tools/id/{tool_id}/history/{newest['id']}").status_code == 400


def test_a_saved_version_goes_back_into_production(admin_client: httpx.Client,
                                                   tool_id: str) -> None:
    ok(admin_client.post(f"/api/v1/tools/id/{tool_id}/update",
                         json=tool_form(tool_id, SOURCE.replace("who: str", "who: int"))))
    newest, oldest = history(admin_client, tool_id)
    back = ok(admin_client.post(f"/api/v1/tools/id/{tool_id}/update/version",
                                json={"version_id": oldest["id"]}))
    assert back["version_id"] == oldest["id"] and back["content"] == SOURCE
    assert back["specs"][0]["parameters"]["properties"]["who"]["type"] == "string"
    assert len(history(admin_client, tool_id)) == 2, "putting a version back adds none"
    assert ok(admin_client.delete(f"/api/v1/tools/id/{tool_id}/history/{newest['id']}"))
    assert [v["id"] for v in history(admin_client, tool_id)] == [oldest["id"]]
    unknown = admin_client.post(f"/api/v1/tools/id/{tool_id}/update/version",
                                json={"version_id": "nope"})
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Version not found"


def test_code_that_does_not_import_is_refused_and_nothing_is_stored(
        admin_client: httpx.Client, tool_id: str) -> None:
    broken = "import no_such_module_anywhere\n\nclass Tools:\n    pass\n"
    fresh = unique("broken")
    refused = admin_client.post("/api/v1/tools/create", json=tool_form(fresh, broken))
    assert refused.status_code == 400 and "no_such_module_anywhere" in refused.json()["detail"]
    assert admin_client.get(f"/api/v1/tools/id/{fresh}").status_code == 404
    assert fresh not in {t["id"] for t in ok(admin_client.get("/api/v1/tools/"))}
    update = admin_client.post(f"/api/v1/tools/id/{tool_id}/update",
                               json=tool_form(tool_id, broken))
    assert update.status_code == 400
    assert ok(admin_client.get(f"/api/v1/tools/id/{tool_id}"))["content"] == SOURCE
    assert len(history(admin_client, tool_id)) == 1
    syntax = admin_client.post("/api/v1/tools/create",
                               json=tool_form(unique("syntax"), "class Tools(:\n"))
    assert syntax.status_code == 400 and "line" in syntax.json()["detail"]


def test_another_users_tool_is_not_there(user_client: httpx.Client, admin_client: httpx.Client,
                                         tool_id: str) -> None:
    for path in ("", "/specs", "/valves/spec", "/valves/user"):
        assert user_client.get(f"/api/v1/tools/id/{tool_id}{path}").status_code == 404, path
    assert user_client.get(f"/api/v1/tools/id/{tool_id}/history").status_code == 404
    assert user_client.get("/api/v1/tools/export").status_code == 403  # tools_export
    exported = {t["id"]: t for t in ok(admin_client.get("/api/v1/tools/export"))}
    assert exported[tool_id]["content"] == SOURCE and exported[tool_id]["specs"]


def test_load_from_a_url(admin_client: httpx.Client, user_client: httpx.Client,
                         agent_stack: AgentStack) -> None:
    unreachable = admin_client.post("/api/v1/tools/load/url", json={
        "url": f"http://127.0.0.1:{closed_port()}/greeter.py"})
    assert unreachable.status_code == 400
    assert unreachable.json()["detail"].startswith("Could not reach http://127.0.0.1:")
    missing = admin_client.post("/api/v1/functions/load/url", json={
        "url": f"{agent_stack.provider.url}/no/such/file.py"})
    assert missing.status_code == 400 and "answered 404" in missing.json()["detail"]
    assert admin_client.post("/api/v1/tools/load/url",
                             json={"url": "ftp://example.com/x.py"}).status_code == 400
    loaded = ok(admin_client.post("/api/v1/tools/load/url", json={
        "url": f"{agent_stack.provider.url}/v1/models"}))
    assert loaded["name"] == "v1" and '"data"' in loaded["content"]
    assert user_client.post("/api/v1/tools/load/url", json={
        "url": f"{agent_stack.provider.url}/v1/models"}).status_code == 403


def test_functions_versions_export_and_sync(admin_client: httpx.Client) -> None:
    kept, dropped = unique("kept"), unique("dropped")
    for function_id in (kept, dropped):
        ok(admin_client.post("/api/v1/functions/create", json={
            "id": function_id, "name": function_id, "content": FILTER, "meta": {}}))
    assert len(ok(admin_client.get(f"/api/v1/functions/id/{kept}/history"))) == 1
    everything = ok(admin_client.get("/api/v1/functions/export",
                                     params={"include_valves": "true"}))
    assert all("valves" in f and f["content"] for f in everything)
    broken = [*everything, {"id": unique("bad"), "name": "Bad", "content": "class Nope: pass",
                            "meta": {}}]
    refused = admin_client.post("/api/v1/functions/sync", json={"functions": broken})
    assert refused.status_code == 400
    assert {f["id"] for f in ok(admin_client.get("/api/v1/functions/list"))} >= {kept, dropped}
    wanted = [f for f in everything if f["id"] != dropped]
    synced = ok(admin_client.post("/api/v1/functions/sync", json={"functions": wanted}))
    assert {f["id"] for f in synced} == {f["id"] for f in wanted}
    assert admin_client.get(f"/api/v1/functions/id/{dropped}").status_code == 404
    assert admin_client.get(f"/api/v1/functions/id/{dropped}/history").status_code == 404
    assert len(ok(admin_client.get(f"/api/v1/functions/id/{kept}/history"))) == 1


def test_a_functions_versions_are_the_admins(admin_client: httpx.Client,
                                             user_client: httpx.Client) -> None:
    function_id = unique("private")
    ok(admin_client.post("/api/v1/functions/create", json={
        "id": function_id, "name": "Private", "content": FILTER, "meta": {}}))
    version = ok(admin_client.get(f"/api/v1/functions/id/{function_id}/history"))[0]["id"]
    for path in ("/history", f"/history/{version}", "/history/diff"):
        answer = user_client.get(f"/api/v1/functions/id/{function_id}{path}",
                                 params={"from_id": version, "to_id": version})
        assert answer.status_code == 404, (path, answer.text)
    assert user_client.post(f"/api/v1/functions/id/{function_id}/update/version",
                            json={"version_id": version}).status_code == 404


def test_the_action_button_runs_the_action(admin_client: httpx.Client,
                                           user_client: httpx.Client) -> None:
    action_id = unique("summary")
    ok(admin_client.post("/api/v1/functions/create", json={
        "id": action_id, "name": "Summary", "content": ACTION, "meta": {}}))
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}],
            "id": "m1", "chat_id": "c1", "session_id": "s1"}
    assert user_client.post(f"/api/chat/actions/{action_id}", json=body).status_code == 404
    ok(admin_client.post(f"/api/v1/functions/id/{action_id}/toggle"))
    assert ok(user_client.post(f"/api/chat/actions/{action_id}", json=body)) == {
        "id": action_id, "messages": 1, "role": "user"}
    assert ok(user_client.post(f"/api/chat/actions/{action_id}.short", json=body))["id"] == \
        "short"
    failed = user_client.post(f"/api/chat/actions/{action_id}", json={**body, "fail": True})
    assert failed.status_code == 400 and "asked to fail" in failed.json()["detail"]
    assert user_client.post("/api/chat/actions/nothing_here", json=body).status_code == 404


def test_no_pipelines_server(admin_client: httpx.Client, user_client: httpx.Client) -> None:
    assert ok(admin_client.get("/api/v1/pipelines/list")) == {"data": []}
    answer = admin_client.get("/api/v1/pipelines/", params={"urlIdx": 0})
    assert answer.status_code == 404 and "no Pipelines servers" in answer.json()["detail"]
    assert admin_client.post("/api/v1/pipelines/upload", data={"urlIdx": "0"}, files={
        "file": ("p.txt", b"x")}).status_code == 400
    assert admin_client.post("/api/v1/pipelines/add", json={"url": "x"}).status_code == 422
    assert user_client.get("/api/v1/pipelines/list").status_code == 403


@pytest.fixture
def task_config(admin_client: httpx.Client) -> Iterator[dict[str, Any]]:
    before = ok(admin_client.get("/api/v1/tasks/config"))
    yield before
    ok(admin_client.post("/api/v1/tasks/config/update", json=before))


def test_task_settings_apply_at_once(admin_client: httpx.Client, user_client: httpx.Client,
                                     task_config: dict[str, Any]) -> None:
    assert ok(user_client.get("/api/v1/tasks/config")) == task_config
    assert user_client.post("/api/v1/tasks/config/update",
                            json=task_config).status_code == 403
    assert admin_client.post("/api/v1/tasks/config/update",
                             json={"TASK_MODEL": "x"}).status_code == 422
    changed = ok(admin_client.post("/api/v1/tasks/config/update", json={
        **task_config, "ENABLE_TITLE_GENERATION": False,
        "ENABLE_AUTOCOMPLETE_GENERATION": False,
        "TAGS_GENERATION_PROMPT_TEMPLATE": "Tag it. reply: {\"tags\": [\"Custom\"]}"}))
    assert changed["ENABLE_TITLE_GENERATION"] is False
    chat = [{"role": "user", "content": "hello"}]
    title = ok(user_client.post("/api/v1/tasks/title/completions",
                                json={"model": MODEL, "messages": chat}))
    assert title == {"detail": "Title generation is disabled"}
    auto = user_client.post("/api/v1/tasks/auto/completions",
                            json={"model": MODEL, "prompt": "hel"})
    assert auto.status_code == 400
    tags = ok(user_client.post("/api/v1/tasks/tags/completions",
                               json={"model": MODEL, "messages": chat}))
    assert tags["tags"] == ["Custom"], "the admin's prompt was used"


@pytest.mark.parametrize(("kind", "body", "key", "expected"), [
    ("emoji", {"prompt": "reply: 😀"}, "emoji", "😀"),
    ("auto", {"prompt": "reply: {\"text\": \"ther today?\"}", "type": "search"}, "text",
     "ther today?"),
    ("image_prompt", {"messages": [{"role": "user",
                                    "content": "reply: {\"prompt\": \"a red fox\"}"}]},
     "prompt", "a red fox"),
    ("moa", {"prompt": "reply: merged", "responses": ["one", "two"]}, "moa", "merged"),
])
def test_more_tasks(user_client: httpx.Client, kind: str, body: dict[str, Any], key: str,
                    expected: str) -> None:
    answer = ok(user_client.post(f"/api/v1/tasks/{kind}/completions",
                                 json={"model": MODEL, **body}))
    assert answer[key] == expected and answer["choices"][0]["message"]["content"]


def test_bad_task_bodies(user_client: httpx.Client) -> None:
    for kind, body in (("emoji", {}), ("moa", {"prompt": "x", "responses": "one"}),
                       ("auto", {"prompt": ""})):
        answer = user_client.post(f"/api/v1/tasks/{kind}/completions",
                                  json={"model": MODEL, **body})
        assert answer.status_code == 422, (kind, answer.text)


def test_merged_answer_streams(user_client: httpx.Client) -> None:
    with user_client.stream("POST", "/api/v1/tasks/moa/completions", json={
            "model": MODEL, "prompt": "reply: merged", "responses": ["a"],
            "stream": True}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in answer.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]" and len(lines) > 1


@pytest.fixture
def code_config(admin_client: httpx.Client) -> Iterator[dict[str, Any]]:
    before = ok(admin_client.get("/api/v1/configs/code_execution"))
    yield before
    ok(admin_client.post("/api/v1/configs/code_execution", json=before))


def test_code_execution_settings(admin_client: httpx.Client, user_client: httpx.Client,
                                 code_config: dict[str, Any]) -> None:
    assert code_config["CODE_EXECUTION_ENGINE"] == "jupyter"
    assert ok(user_client.get("/api/v1/configs/code_execution/public")) == {
        "engine": "jupyter", "interpreter_engine": "jupyter", "enable_code_execution": True,
        "enable_code_interpreter": True}
    assert user_client.get("/api/v1/configs/code_execution").status_code == 403
    assert admin_client.post("/api/v1/configs/code_execution", json={
        **code_config, "CODE_EXECUTION_ENGINE": "docker"}).status_code == 422
    ok(admin_client.post("/api/v1/configs/code_execution",
                         json={**code_config, "ENABLE_CODE_EXECUTION": False}))
    refused = user_client.post("/api/v1/utils/code/execute", json={"code": "1"})
    assert refused.status_code == 403 and "turned off" in refused.json()["detail"]


def test_run_shows_output_and_figures_as_the_app_reads_them(user_client: httpx.Client) -> None:
    answer = ok(user_client.post("/api/v1/utils/code/execute", json={
        "code": "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nprint('drawn')\n6 * 7"}))
    assert answer["stdout"].strip() == "drawn" and "Traceback" not in answer["stderr"]
    value, figure = answer["result"].split("\n")
    assert value == "42" and figure.startswith("data:image/png;base64,iVBOR")
    failed = ok(user_client.post("/api/v1/utils/code/execute", json={"code": "1/0"}))
    assert "ZeroDivisionError" in failed["stderr"] and failed["result"] == ""


def test_the_chats_code_interpreter_runs_code(user_client: httpx.Client) -> None:
    answer = ok(user_client.post("/api/v1/agents/run", json={
        "model": MODEL, "stream": False, "features": {"code_interpreter": True},
        "messages": [{"role": "user", "content": 'call: execute_code {"code": "print(6*7)"}'}]}))
    assert [c["name"] for c in answer["tool_calls"]] == ["execute_code"]
    assert "42" in answer["tool_calls"][0]["result"]


@pytest.fixture
def permissions(admin_client: httpx.Client) -> Iterator[Callable[[str, str, bool], None]]:
    """Sets a default permission for every user (the gateway's, applied within ~1 s)."""
    before = ok(admin_client.get("/api/v1/users/default/permissions"))

    def grant(section: str, name: str, value: bool) -> None:
        current = ok(admin_client.get("/api/v1/users/default/permissions"))
        current[section][name] = value
        ok(admin_client.post("/api/v1/users/default/permissions", json=current))

    yield grant
    ok(admin_client.post("/api/v1/users/default/permissions", json=before))


def until(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the permission change did not apply in time"
        time.sleep(0.2)


def test_workspace_tools_permission(user_client: httpx.Client, admin_client: httpx.Client,
                                    tool_id: str,
                                    permissions: Callable[[str, str, bool], None]) -> None:
    mine = unique("mine")
    denied = user_client.post("/api/v1/tools/create", json=tool_form(mine))
    assert denied.status_code == 403 and "workspace.tools" in denied.json()["detail"]
    permissions("workspace", "tools", True)
    until(lambda: user_client.post("/api/v1/tools/create",
                                   json=tool_form(mine, access_grants=[])).status_code == 200)
    assert ok(user_client.get(f"/api/v1/tools/id/{mine}"))["write_access"] is True
    changed = tool_form(mine, SOURCE.replace('"Hello"', '"Hey"'))
    ok(user_client.post(f"/api/v1/tools/id/{mine}/update", json=changed))
    assert len(history(user_client, mine)) == 2
    ok(user_client.post(f"/api/v1/tools/id/{mine}/valves/update", json={"greeting": "Yo"}))
    # The admin's private tool stays out of sight; one shared for reading cannot be changed.
    assert user_client.post(f"/api/v1/tools/id/{tool_id}/update",
                            json=tool_form(tool_id)).status_code == 404
    ok(admin_client.post(f"/api/v1/tools/id/{tool_id}/access/update", json={"access_grants": [
        {"principal_type": "user", "principal_id": "*", "permission": "read"}]}))
    assert user_client.post(f"/api/v1/tools/id/{tool_id}/update",
                            json=tool_form(tool_id)).status_code == 403
    assert user_client.get(f"/api/v1/tools/id/{tool_id}/valves").status_code == 403
    assert user_client.get("/api/v1/tools/export").status_code == 403
    permissions("workspace", "tools_export", True)
    until(lambda: user_client.get("/api/v1/tools/export").status_code == 200)
    assert [t["id"] for t in ok(user_client.get("/api/v1/tools/export"))] == [mine]
    permissions("workspace", "tools", False)
    until(lambda: user_client.post(f"/api/v1/tools/id/{mine}/update",
                                   json=changed).status_code == 403)
    ok(admin_client.delete(f"/api/v1/tools/id/{mine}/delete"))


def test_code_interpreter_permission(user_client: httpx.Client,
                                     permissions: Callable[[str, str, bool], None]) -> None:
    body = {"model": MODEL, "stream": False, "features": {"code_interpreter": True},
            "messages": [{"role": "user", "content": 'call: execute_code {"code": "1"}'}]}
    permissions("features", "code_interpreter", False)

    def no_interpreter() -> bool:
        return ok(user_client.post("/api/v1/agents/run", json=body))["tool_calls"] == []

    until(no_interpreter)


def test_a_filter_the_user_switches_says_so(admin_client: httpx.Client) -> None:
    plain, switched = unique("plain"), unique("switched")
    for function_id, source in ((plain, FILTER), (switched, TOGGLED)):
        ok(admin_client.post("/api/v1/functions/create", json={
            "id": function_id, "name": function_id, "content": source, "meta": {}}))
    assert ok(admin_client.get(f"/api/v1/functions/id/{plain}"))["meta"]["toggle"] is False
    assert ok(admin_client.get(f"/api/v1/functions/id/{switched}"))["meta"]["toggle"] is True
    versions = ok(admin_client.get(f"/api/v1/functions/id/{switched}/history"))
    entry = ok(admin_client.get(f"/api/v1/functions/id/{switched}/history/{versions[0]['id']}"))
    assert "toggle" not in entry["snapshot"]["meta"], "derived from the source, not saved"
