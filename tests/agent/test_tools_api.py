"""Open WebUI's `/api/v1/tools`: admin-only code, specs from typed documented methods, valves,
who may see a tool, and malformed source named by its line."""

from __future__ import annotations

import httpx

from tests.agent.conftest import run

COUNTER = '''
from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        step: int = 1

    class UserValves(BaseModel):
        prefix: str = "n="

    def __init__(self):
        self.valves = self.Valves()

    def count_words(self, text: str, minimum: int = 0, __user__: dict = None) -> str:
        """
        Count the words of a text.
        :param text: The text to count.
        :param minimum: Only words at least this long.
        """
        words = [w for w in text.split() if len(w) >= minimum]
        return __user__["valves"].prefix + str(len(words) * self.valves.step)
'''


def create(admin: httpx.Client, tool_id: str, content: str = COUNTER,
           **extra: object) -> httpx.Response:
    return admin.post("/api/v1/tools/create", json={
        "id": tool_id, "name": tool_id.title(), "content": content, "meta": {}, **extra})


def test_only_admins_write_tools(admin_client: httpx.Client, user_client: httpx.Client) -> None:
    assert create(user_client, "counter_user").status_code == 403
    assert create(admin_client, "counter").status_code == 200
    assert create(admin_client, "counter").status_code == 409
    form = {"id": "counter", "name": "Counter", "content": COUNTER, "meta": {}}
    assert user_client.post("/api/v1/tools/id/counter/update", json=form).status_code == 403
    assert user_client.delete("/api/v1/tools/id/counter/delete").status_code == 403
    assert user_client.post("/api/v1/tools/id/counter/valves/update",
                            json={"step": 2}).status_code == 403


def test_specs_from_the_methods(admin_client: httpx.Client, user_client: httpx.Client) -> None:
    create(admin_client, "spec_counter")
    specs = user_client.get("/api/v1/tools/id/spec_counter/specs").json()
    assert specs == [{"name": "count_words", "description": "Count the words of a text.",
                      "parameters": {"type": "object", "properties": {
                          "text": {"type": "string", "description": "The text to count."},
                          "minimum": {"type": "integer", "default": 0,
                                      "description": "Only words at least this long."}},
                          "required": ["text"]}}]
    listed = {t["id"]: t for t in user_client.get("/api/v1/tools/").json()}
    assert listed["spec_counter"]["meta"]["has_user_valves"] is True
    tool = user_client.get("/api/v1/tools/id/spec_counter").json()
    assert tool["content"] == COUNTER and tool["write_access"] is False
    available = {t["id"]: t for t in user_client.get("/api/v1/agents/tools").json()}
    assert available["calculator"]["kind"] == "builtin"
    assert available["spec_counter"]["specs"][0]["name"] == "count_words"


def test_malformed_source_names_the_line(admin_client: httpx.Client) -> None:
    syntax = create(admin_client, "broken", "class Tools:\n    def f(self):\n        return (\n")
    assert syntax.status_code == 400 and "line 3" in syntax.json()["detail"]
    failing = create(admin_client, "broken", "import os\n\nvalue = undefined_name\n")
    assert failing.status_code == 400
    assert "line 3" in failing.json()["detail"] and "NameError" in failing.json()["detail"]
    missing = create(admin_client, "broken", "x = 1\n")
    assert missing.status_code == 400 and "class Tools" in missing.json()["detail"]
    no_package = create(admin_client, "broken", "import not_a_package_anywhere\n")
    assert no_package.status_code == 400 and "line 1" in no_package.json()["detail"]
    bad_id = create(admin_client, "bad id!")
    assert bad_id.status_code == 422
    assert admin_client.get("/api/v1/tools/id/broken").status_code == 404


def test_valves_and_user_valves_reach_the_tool(admin_client: httpx.Client,
                                               user_client: httpx.Client) -> None:
    create(admin_client, "valved")
    spec = user_client.get("/api/v1/tools/id/valved/valves/spec").json()
    assert spec["properties"]["step"]["default"] == 1
    assert admin_client.get("/api/v1/tools/id/valved/valves").json() == {}
    bad = admin_client.post("/api/v1/tools/id/valved/valves/update", json={"step": "many"})
    assert bad.status_code == 422 and "step" in bad.json()["detail"]
    assert admin_client.post("/api/v1/tools/id/valved/valves/update",
                             json={"step": 10}).json() == {"step": 10}
    assert user_client.get("/api/v1/tools/id/valved/valves/user").json() == {"prefix": "n="}
    assert user_client.post("/api/v1/tools/id/valved/valves/user/update",
                            json={"prefix": "words: "}).status_code == 200
    events = run(user_client, 'call: count_words {"text": "one two three"}',
                 tool_ids=["valved"])
    result = next(e for e in events if e["type"] == "tool_result")
    assert result["content"] == "words: 30"


def test_update_reloads_the_code(admin_client: httpx.Client, user_client: httpx.Client) -> None:
    create(admin_client, "changing")
    changed = COUNTER.replace("len(words) * self.valves.step", "'changed'")
    response = admin_client.post("/api/v1/tools/id/changing/update", json={
        "id": "changing", "name": "Changing", "content": changed, "meta": {}})
    assert response.status_code == 200 and response.json()["content"] == changed
    events = run(user_client, 'call: count_words {"text": "a"}', tool_ids=["changing"])
    assert next(e for e in events if e["type"] == "tool_result")["content"] == "n=changed"
    assert admin_client.delete("/api/v1/tools/id/changing/delete").json() is True
    assert user_client.get("/api/v1/tools/id/changing").status_code == 404


def test_private_tools_stay_private(admin_client: httpx.Client,
                                    user_client: httpx.Client) -> None:
    assert create(admin_client, "private_counter", access_grants=[]).status_code == 200
    assert user_client.get("/api/v1/tools/id/private_counter").status_code == 404
    assert "private_counter" not in [t["id"] for t in user_client.get("/api/v1/tools/").json()]
    refused = user_client.post("/api/v1/agents/run", json={
        "model": "gpt-fake-agent", "messages": [{"role": "user", "content": "hi"}],
        "tool_ids": ["private_counter"]})
    assert refused.status_code == 400
    granted = admin_client.post("/api/v1/tools/id/private_counter/access/update", json={
        "access_grants": [{"principal_type": "user", "principal_id": "*",
                           "permission": "read"}]})
    assert granted.status_code == 200
    assert user_client.get("/api/v1/tools/id/private_counter").status_code == 200


def test_a_model_can_enable_a_tool_for_every_run(admin_client: httpx.Client,
                                                 user_client: httpx.Client) -> None:
    source = COUNTER.replace("def count_words", "def count_letters")
    assert create(admin_client, "by_model", source,
                  meta={"model_ids": ["gpt-fake-agent-tooled"]}).status_code == 200
    events = run(user_client, 'call: count_letters {"text": "a b"}',
                 model="gpt-fake-agent-tooled")
    assert next(e for e in events if e["type"] == "tool_result")["content"] == "n=2"
    other = run(user_client, 'call: count_letters {"text": "a b"}')
    assert not [e for e in other if e["type"] == "tool_result"]
