"""The agent loop through the gateway: the model (the fake, told by the user message which tools
to call) calls built-in and user tools; results go back; the answer streams."""

from __future__ import annotations

import json

import httpx

from tests.agent.conftest import MODEL, AgentStack, run

WEATHER_TOOL = '''"""
title: Weather
author: tests
version: 0.1
"""
import asyncio
from pydantic import BaseModel, Field


class Tools:
    class Valves(BaseModel):
        unit: str = Field("celsius", description="Temperature unit")

    class UserValves(BaseModel):
        greeting: str = "Hello"

    def __init__(self):
        self.valves = self.Valves()

    async def get_weather(self, city: str, days: int = 1, __user__: dict = None,
                          __event_emitter__=None) -> str:
        """
        Get the weather forecast for a city.
        :param city: The city to forecast.
        :param days: How many days ahead.
        """
        if __event_emitter__:
            await __event_emitter__({"type": "status", "data": {"description": "looking"}})
        greeting = __user__["valves"].greeting
        return f"{greeting}: {city} {days}d sunny in {self.valves.unit}"

    def explode(self) -> str:
        """Always fails."""
        raise RuntimeError("boom")

    def nap(self, seconds: float) -> str:
        """Sleep a while.
        :param seconds: How long.
        """
        import time
        time.sleep(seconds)
        return "rested"
'''


def ensure_weather_tool(admin: httpx.Client) -> None:
    if admin.get("/api/v1/tools/id/weather").status_code == 200:
        return
    created = admin.post("/api/v1/tools/create", json={
        "id": "weather", "name": "Weather", "content": WEATHER_TOOL,
        "meta": {"description": "Forecasts"}})
    assert created.status_code == 200, created.text


def by_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


def test_builtin_and_user_tools_in_one_run(agent_stack: AgentStack, admin_client: httpx.Client,
                                           user_client: httpx.Client) -> None:
    ensure_weather_tool(admin_client)
    events = run(user_client, 'call: calculator {"expression": "6 * 7"}\n'
                              'call: get_weather {"city": "Paris", "days": 2}',
                 tool_ids=["calculator", "weather"])
    calls = by_type(events, "tool_call")
    results = {e["name"]: e for e in by_type(events, "tool_result")}
    assert [c["name"] for c in calls] == ["calculator", "get_weather"]
    assert json.loads(calls[1]["arguments"]) == {"city": "Paris", "days": 2}
    assert results["calculator"]["content"] == "42" and not results["calculator"]["error"]
    assert results["get_weather"]["content"] == "Hello: Paris 2d sunny in celsius"
    assert any(e["event"]["data"]["description"] == "looking" for e in by_type(events, "status"))
    tokens = "".join(e["content"] for e in by_type(events, "token"))
    done = events[-1]
    assert done["type"] == "done" and done["finish_reason"] == "stop" and done["steps"] == 2
    assert done["content"] == tokens
    assert "42" in tokens and "Paris 2d sunny" in tokens
    roles = [m["role"] for m in done["messages"]]
    assert roles == ["assistant", "tool", "tool", "assistant"]


def test_tool_errors_are_results_the_model_sees(admin_client: httpx.Client,
                                                user_client: httpx.Client) -> None:
    ensure_weather_tool(admin_client)
    events = run(user_client, "call: explode {}\ncall: calculator {oops\n"
                              "call: no_such_tool {}\ncall: get_weather {\"days\": 1}\n"
                              'call: nap {"seconds": 30}',
                 tool_ids=["calculator", "weather"], tool_timeout=1)
    results = {e["name"]: e for e in by_type(events, "tool_result")}
    assert all(r["error"] for r in results.values()), results
    assert "RuntimeError: boom" in results["explode"]["content"]
    assert "not valid JSON" in results["calculator"]["content"]
    assert "no tool named 'no_such_tool'" in results["no_such_tool"]["content"]
    assert "city" in results["get_weather"]["content"]
    assert "within 1 s" in results["nap"]["content"]
    done = events[-1]
    assert done["type"] == "done" and "RuntimeError: boom" in done["content"]


def test_independent_tool_calls_run_concurrently(admin_client: httpx.Client,
                                                 user_client: httpx.Client) -> None:
    ensure_weather_tool(admin_client)
    events = run(user_client, 'call: nap {"seconds": 1.5}\ncall: nap {"seconds": 1.5}\n'
                              'call: nap {"seconds": 1.5}', tool_ids=["weather"])
    results = by_type(events, "tool_result")
    assert [r["content"] for r in results] == ["rested"] * 3
    # Three naps of 1.5 s each, together: the slowest is well under their sum.
    assert max(r["duration_ms"] for r in results) < 4000


def test_run_without_streaming(user_client: httpx.Client) -> None:
    body = {"model": MODEL, "stream": False, "tool_ids": ["calculator", "get_current_time"],
            "messages": [{"role": "user", "content": 'call: calculator {"expression": "2**10"}'
                                                     '\ncall: get_current_time {}'}]}
    response = user_client.post("/api/v1/agents/run", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["finish_reason"] == "stop"
    assert [c["name"] for c in answer["tool_calls"]] == ["calculator", "get_current_time"]
    assert answer["tool_calls"][0]["result"] == "1024"
    assert "1024" in answer["content"] and "T" in answer["tool_calls"][1]["result"]


def test_step_limit(user_client: httpx.Client) -> None:
    # The fake answers a tool result with text, so one step of tools needs a second call.
    events = run(user_client, 'call: calculator {"expression": "1+1"}',
                 tool_ids=["calculator"], max_steps=1)
    done = events[-1]
    assert done["type"] == "done" and done["finish_reason"] == "step_limit"
    assert done["steps"] == 1 and by_type(events, "tool_result")[0]["content"] == "2"


def test_bad_runs_get_clear_errors(user_client: httpx.Client) -> None:
    message = [{"role": "user", "content": "hi"}]
    unknown_tool = user_client.post("/api/v1/agents/run", json={
        "model": MODEL, "messages": message, "tool_ids": ["nope"]})
    assert unknown_tool.status_code == 400 and "nope" in unknown_tool.json()["detail"]
    unknown_model = user_client.post("/api/v1/agents/run", json={
        "model": "no-such-model", "messages": message})
    assert unknown_model.status_code == 404, unknown_model.text
    assert "no-such-model" in unknown_model.json()["detail"]
    empty = user_client.post("/api/v1/agents/run", json={"model": MODEL, "messages": []})
    assert empty.status_code == 422
    broken = user_client.post("/api/v1/agents/run", content=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert broken.status_code == 400


def test_web_search_and_knowledge_tools(user_client: httpx.Client) -> None:
    stored = user_client.post("/api/v1/retrieval/process/text", json={
        "name": "otters.txt", "content": "Sea otters hold hands while they sleep.",
        "collection_name": "agent-notes"})
    assert stored.status_code == 200, stored.text
    events = run(user_client, 'call: query_knowledge {"query": "otters sleeping"}\n'
                              'call: web_search {"query": "sea otters"}',
                 tool_ids=["query_knowledge", "web_search"], collection_names=["agent-notes"])
    results = {e["name"]: e for e in by_type(events, "tool_result")}
    assert not results["query_knowledge"]["error"], results["query_knowledge"]
    assert "hold hands" in results["query_knowledge"]["content"]
    assert not results["web_search"]["error"], results["web_search"]
    assert "/pages/" in results["web_search"]["content"]
