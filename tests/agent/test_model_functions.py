"""What a workspace model (an inference preset) brings to its chats, as Open WebUI does it: the
action and filter functions shown on each model in the model list (the inference service
learns them from the agent), its filters run around its turns, its knowledge searched for them
(the answer's sources show it)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.agent.conftest import run

BASE = "gpt-fake-agent"
ACTION = '''"""
title: Sparkle
icon_url: data:image/svg+xml;base64,PHN2Zy8+
"""


class Action:
    async def action(self, body: dict) -> dict:
        return body
'''
SEVERAL = '''
class Action:
    actions = [{"id": "short", "name": "Make it short"}, {"id": "long"}]

    async def action(self, body: dict, __id__: str = None) -> dict:
        return {"ran": __id__}
'''
SWITCHED = '''
from pydantic import BaseModel


class Filter:
    class UserValves(BaseModel):
        loud: bool = False

    def __init__(self):
        self.toggle = True

    def outlet(self, body: dict) -> dict:
        body["messages"][-1]["content"] += " [switched]"
        return body
'''
PLAIN = '''
class Filter:
    def outlet(self, body: dict) -> dict:
        body["messages"][-1]["content"] += " [plain]"
        return body
'''


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.text)
    return response.json()


def function(admin: httpx.Client, source: str, *, name: str = "Fn", active: bool = True,
             glob: bool = False) -> str:
    function_id = f"mf_{uuid.uuid4().hex[:8]}"
    ok(admin.post("/api/v1/functions/create", json={
        "id": function_id, "name": name, "content": source, "meta": {"description": name}}))
    if active:
        ok(admin.post(f"/api/v1/functions/id/{function_id}/toggle"))
    if glob:
        ok(admin.post(f"/api/v1/functions/id/{function_id}/toggle/global"))
    return function_id


def preset(admin: httpx.Client, **meta: Any) -> str:
    model_id = f"ws-{uuid.uuid4().hex[:8]}"
    ok(admin.post("/api/v1/models/create", json={
        "id": model_id, "base_model_id": BASE, "name": "Workspace model", "params": {},
        "meta": {"description": "a preset", **meta}}))
    return model_id


def listed(client: httpx.Client, model_id: str,
           until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The model's entry in the model list once `until` holds (the list reads the agent's
    functions again every couple of seconds)."""
    deadline = time.monotonic() + 10
    while True:
        entry = next(m for m in ok(client.get("/api/models"))["data"] if m["id"] == model_id)
        if until(entry) or time.monotonic() > deadline:
            return entry
        time.sleep(0.25)


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def test_the_model_list_shows_actions_and_switchable_filters(
        admin_client: httpx.Client, user_client: httpx.Client) -> None:
    everywhere = function(admin_client, ACTION, name="Sparkle", glob=True)
    several = function(admin_client, SEVERAL, name="Rewrite")
    switched = function(admin_client, SWITCHED, name="Loud")
    plain = function(admin_client, PLAIN, name="Quiet")
    off = function(admin_client, ACTION, name="Off", active=False)
    model_id = preset(admin_client, actionIds=[several, off], filterIds=[switched, plain])

    # A provider's model, to a user: the global action only, with its name, icon, description.
    base = listed(user_client, BASE, lambda e: everywhere in ids(e["actions"]))
    sparkle = next(a for a in base["actions"] if a["id"] == everywhere)
    assert sparkle == {"id": everywhere, "name": "Sparkle", "description": "Sparkle",
                       "icon": "data:image/svg+xml;base64,PHN2Zy8+"}
    assert not {several, off, switched, plain} & set(ids(base["actions"] + base["filters"]))

    # The workspace model: the global action, then its own action's two buttons; its
    # switchable filter (the plain one just runs, the inactive action is not shown).
    entry = listed(admin_client, model_id, lambda e: switched in ids(e["filters"]))
    own = [a for a in entry["actions"] if a["id"].startswith(several)]
    assert [(a["id"], a["name"]) for a in own] == [
        (f"{several}.short", "Make it short"), (f"{several}.long", "Rewrite (long)")]
    assert everywhere in ids(entry["actions"]) and off not in ids(entry["actions"])
    assert [f for f in entry["filters"] if f["id"] in (switched, plain)] == [
        {"id": switched, "name": "Loud", "description": "Loud", "icon": None,
         "has_user_valves": True}]
    # One button of several runs as Open WebUI runs it: `__id__` names it.
    ran = ok(admin_client.post(f"/api/chat/actions/{several}.short", json={
        "model": model_id, "messages": [{"role": "assistant", "content": "hi"}]}))
    assert ran == {"ran": "short"}

    # Switched off: gone from every model within the list's refresh.
    ok(admin_client.post(f"/api/v1/functions/id/{everywhere}/toggle"))
    base = listed(user_client, BASE, lambda e: everywhere not in ids(e["actions"]))
    assert everywhere not in ids(base["actions"])


def test_a_workspace_models_filters_run_on_its_turns(admin_client: httpx.Client) -> None:
    switched = function(admin_client, SWITCHED)
    plain = function(admin_client, PLAIN)
    model_id = preset(admin_client, filterIds=[plain, switched])

    def reply(model: str, **form: Any) -> str:
        return str(run(admin_client, "reply: hello", model=model, **form)[-1]["content"])

    # Its plain filter always; the switchable one only when the turn switches it on.
    assert reply(model_id) == "hello [plain]"
    # Filters of one priority run in the order of their ids (random here).
    marks = {plain: " [plain]", switched: " [switched]"}
    assert reply(model_id, filter_ids=[switched]) == "hello" + "".join(
        marks[i] for i in sorted(marks))
    # Not on the model it is based on.
    assert reply(BASE) == "hello"


def test_a_workspace_models_knowledge_grounds_its_turns(admin_client: httpx.Client) -> None:
    knowledge = ok(admin_client.post("/api/v1/knowledge/create", json={
        "name": "Reactors", "description": "for a workspace model"}))
    text = ("# Zephyr-9\n\nThe Zephyr-9 reactor is cooled by molten salt circulating "
            "through a graphite core.\n")
    file = ok(admin_client.post("/api/v1/files/",
                                files={"file": ("zephyr.md", text.encode())}))
    ok(admin_client.post(f"/api/v1/knowledge/{knowledge['id']}/file/add",
                         json={"file_id": file["id"]}))
    by_collection = preset(admin_client, knowledge=[
        {**knowledge, "type": "collection"}])
    by_file = preset(admin_client, knowledge=[{"type": "file", "id": file["id"],
                                               "name": "zephyr.md"}])
    question = {"messages": [{"role": "user", "content": "How is the Zephyr-9 cooled?"}],
                "stream": False}
    for model_id in (by_collection, by_file):
        answer = ok(admin_client.post("/api/v1/agents/run",
                                      json={"model": model_id, **question}))
        names = [s["source"]["name"] for s in answer["sources"]]
        assert names == ["zephyr.md"], (model_id, answer["sources"])
        assert any("molten salt" in d for d in answer["sources"][0]["document"])
    # The base model alone searches nothing.
    plain = ok(admin_client.post("/api/v1/agents/run", json={"model": BASE, **question}))
    assert plain["sources"] == []
