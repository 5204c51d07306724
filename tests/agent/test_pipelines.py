"""Open WebUI's functions: filters change the request and the reply in priority order, pipes
answer as models, actions run on a message; all admin-managed."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.agent.conftest import MODEL, AgentStack, run

FILTER = '''
from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0
        mark: str = "X"

    def __init__(self):
        self.valves = self.Valves()

    def inlet(self, body: dict, __user__: dict) -> dict:
        body["messages"][-1]["content"] += " " + self.valves.mark
        return body

    def stream(self, event: dict) -> dict:
        for choice in event.get("choices", []):
            if choice.get("delta", {}).get("content") == "start":
                choice["delta"]["content"] = "begin"
        return event

    async def outlet(self, body: dict, __user__: dict) -> dict:
        body["messages"][-1]["content"] += " [out " + self.valves.mark + "]"
        return body
'''

RAISING = '''
class Filter:
    def inlet(self, body: dict) -> dict:
        raise ValueError("requests about turnips are refused")
'''

PIPE = '''
class Pipe:
    def __init__(self):
        self.pipes = [{"id": "small", "name": " small"}, {"id": "large", "name": " large"}]

    async def pipe(self, body: dict, __user__: dict):
        yield "piped "
        yield body["model"] + " for " + __user__["role"]
'''

ACTION = '''
class Action:
    async def action(self, body: dict, __user__: dict, __event_emitter__=None) -> dict:
        await __event_emitter__({"type": "notification", "data": {"content": "done"}})
        return {"words": len(body["messages"][-1]["content"].split())}
'''


def function(admin: httpx.Client, content: str, *, active: bool = True, glob: bool = False,
             model_ids: list[str] | None = None, prefix: str = "f") -> str:
    function_id = f"{prefix}_{uuid.uuid4().hex[:8]}"
    meta: dict[str, object] = {"description": "test"}
    if model_ids is not None:
        meta["model_ids"] = model_ids
    created = admin.post("/api/v1/functions/create", json={
        "id": function_id, "name": function_id, "content": content, "meta": meta})
    assert created.status_code == 200, created.text
    if active:
        assert admin.post(f"/api/v1/functions/id/{function_id}/toggle").json()["is_active"]
    if glob:
        assert admin.post(f"/api/v1/functions/id/{function_id}/toggle/global").json()[
            "is_global"]
    return function_id


def set_valves(admin: httpx.Client, function_id: str, **values: object) -> None:
    response = admin.post(f"/api/v1/functions/id/{function_id}/valves/update", json=values)
    assert response.status_code == 200, response.text


def test_filters_change_request_and_reply_in_priority_order(
        admin_client: httpx.Client, user_client: httpx.Client) -> None:
    model = "gpt-fake-agent-filtered"
    first = function(admin_client, FILTER, model_ids=[model])
    second = function(admin_client, FILTER, model_ids=[model])
    inactive = function(admin_client, FILTER, active=False, model_ids=[model])
    set_valves(admin_client, first, priority=2, mark="A")
    set_valves(admin_client, second, priority=1, mark="B")
    set_valves(admin_client, inactive, mark="Z")
    assert admin_client.get(f"/api/v1/functions/id/{first}").json()["type"] == "filter"
    events = run(user_client, "reply: start", model=model)
    done = events[-1]
    # Inlets: B (priority 1) then A (2); the model replies what it was sent; each streamed
    # chunk passes the stream hooks; outlets in priority order too.
    assert done["content"] == "begin B A [out B] [out A]"
    tokens = "".join(e["content"] for e in events if e["type"] == "token").strip()
    assert tokens == "begin B A"
    # Not for another model, unless asked for by id.
    assert run(user_client, "reply: plain")[-1]["content"] == "plain"
    asked = run(user_client, "reply: plain", filter_ids=[second])[-1]["content"]
    assert asked == "plain B [out B]"


def test_a_raising_filter_is_a_clear_error(agent_stack: AgentStack, admin_client: httpx.Client,
                                           user_client: httpx.Client) -> None:
    model = "gpt-fake-agent-turnips"
    filter_id = function(admin_client, RAISING, model_ids=[model], prefix="turnips")
    response = user_client.post("/api/v1/agents/run", json={
        "model": model, "messages": [{"role": "user", "content": "turnips?"}]})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert filter_id in detail and "turnips are refused" in detail
    deadline = time.monotonic() + 10
    while filter_id not in agent_stack.agent.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert filter_id in agent_stack.agent.log()


def test_pipes_are_models(admin_client: httpx.Client, user_client: httpx.Client) -> None:
    pipe_id = function(admin_client, PIPE, prefix="pipe")
    models = user_client.get("/api/v1/agents/models").json()["data"]
    ids = {m["id"]: m for m in models}
    assert {f"{pipe_id}.small", f"{pipe_id}.large"} <= set(ids)
    assert ids[f"{pipe_id}.small"]["pipe"] == {"type": "pipe"}
    events = run(user_client, "hello", model=f"{pipe_id}.large")
    assert events[-1]["content"] == f"piped {pipe_id}.large for user"
    assert next(e["content"] for e in events if e["type"] == "token") == "piped "


def test_actions_run_on_a_message(admin_client: httpx.Client, user_client: httpx.Client) -> None:
    action_id = function(admin_client, ACTION, prefix="action")
    response = user_client.post(f"/api/v1/agents/actions/{action_id}", json={
        "model": MODEL, "messages": [{"role": "assistant", "content": "three short words"}]})
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {"words": 3}
    assert response.json()["events"][0]["data"]["content"] == "done"
    missing = user_client.post("/api/v1/agents/actions/nope", json={"messages": []})
    assert missing.status_code == 404


def test_functions_are_for_admins(admin_client: httpx.Client, user_client: httpx.Client) -> None:
    denied = user_client.post("/api/v1/functions/create", json={
        "id": "sneaky", "name": "Sneaky", "content": FILTER, "meta": {}})
    assert denied.status_code == 403
    assert user_client.get("/api/v1/functions/list").status_code == 403
    function_id = function(admin_client, FILTER, active=False)
    assert user_client.post(f"/api/v1/functions/id/{function_id}/toggle").status_code == 403
    assert user_client.get(f"/api/v1/functions/id/{function_id}").status_code == 403
    none = admin_client.post("/api/v1/functions/create", json={
        "id": "nothing", "name": "Nothing", "content": "x = 1\n", "meta": {}})
    assert none.status_code == 400 and "Pipe, Filter or Action" in none.json()["detail"]
    listed = [f["id"] for f in admin_client.get("/api/v1/functions/list").json()]
    assert function_id in listed
    assert admin_client.delete(f"/api/v1/functions/id/{function_id}/delete").json() is True
