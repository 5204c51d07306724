"""Tasks: Open WebUI's title/tags/follow-up/queries completions, and background jobs that are
stored, listed, outlive their client and can be cancelled."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.agent.conftest import MODEL, wait_done
from tests.conftest import bearer, signup


def wait_task(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return wait_done(client, f"/api/v1/agents/tasks/{task_id}")


def chat(directive: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": "Sunny."},
            {"role": "user", "content": directive}]


@pytest.mark.parametrize(("kind", "answer", "key", "expected"), [
    ("title", '{"title": "☀️ Paris Weather"}', "title", "☀️ Paris Weather"),
    ("tags", '{"tags": ["Weather", "Travel"]}', "tags", ["Weather", "Travel"]),
    ("follow_up", '{"follow_ups": ["And tomorrow?"]}', "follow_ups", ["And tomorrow?"]),
    ("queries", '{"queries": ["paris weather"]}', "queries", ["paris weather"]),
])
def test_open_webui_tasks(user_client: httpx.Client, kind: str, answer: str, key: str,
                          expected: object) -> None:
    response = user_client.post(f"/api/v1/tasks/{kind}/completions", json={
        "model": MODEL, "messages": chat(f"reply: {answer}"), "chat_id": "c1"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body[key] == expected
    assert body["choices"][0]["message"]["content"] == answer  # the completion itself
    task = user_client.get(f"/api/v1/agents/tasks/{body['task_id']}").json()
    assert task["kind"] == kind and task["status"] == "completed" and task["progress"] == 1.0
    assert task["result"][key] == expected


def test_title_falls_back_to_the_text(user_client: httpx.Client) -> None:
    body = user_client.post("/api/v1/tasks/title/completions", json={
        "model": MODEL, "messages": chat("reply: Paris weather chat")}).json()
    assert body["title"] == "Paris weather chat"


def test_background_task_list_and_other_users(admin_client: httpx.Client,
                                              user_client: httpx.Client) -> None:
    response = user_client.post("/api/v1/tasks/tags/completions", params={"background": True},
                                json={"model": MODEL, "messages": chat('reply: {"tags": []}')})
    assert response.status_code == 202
    task = wait_task(user_client, response.json()["id"])
    assert task["status"] == "completed"
    listed = user_client.get("/api/v1/agents/tasks", params={"kind": "tags"}).json()
    assert task["id"] in [t["id"] for t in listed]
    assert admin_client.get(f"/api/v1/agents/tasks/{task['id']}").status_code == 200
    other = signup(str(user_client.base_url), name="Other")
    seen = httpx.get(f"{user_client.base_url}/api/v1/agents/tasks/{task['id']}",
                     headers=bearer(other["token"]))
    assert seen.status_code == 404


def test_a_run_task_outlives_its_client_and_can_be_cancelled(
        user_client: httpx.Client) -> None:
    body = {"model": MODEL, "tool_ids": ["execute_code"], "tool_timeout": 60,
            "messages": [{"role": "user", "content":
                          'call: execute_code {"code": "import time; time.sleep(1); 6*7"}'}]}
    started = user_client.post("/api/v1/agents/tasks", json={"kind": "run", "body": body})
    assert started.status_code == 202, started.text
    done = wait_task(user_client, started.json()["id"])
    assert done["status"] == "completed", done
    assert "42" in done["result"]["content"]
    slow = {**body, "messages": [{"role": "user", "content":
                                  'call: execute_code {"code": "import time; time.sleep(30)"}'}]}
    task_id = user_client.post("/api/v1/agents/tasks", json={"kind": "run", "body": slow}
                               ).json()["id"]
    deadline = time.monotonic() + 30
    while user_client.get(f"/api/v1/agents/tasks/{task_id}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    cancelled = user_client.post(f"/api/v1/agents/tasks/{task_id}/cancel").json()
    assert cancelled["status"] == "cancelled"


def test_bad_tasks(user_client: httpx.Client) -> None:
    before = len(user_client.get("/api/v1/agents/tasks", params={"limit": 500}).json())
    assert user_client.post("/api/v1/tasks/title/completions",
                            json={"model": MODEL}).status_code == 422
    assert user_client.post("/api/v1/tasks/poems/completions",
                            json={"model": MODEL, "messages": chat("x")}).status_code == 422
    assert user_client.post("/api/v1/agents/tasks", json={
        "kind": "run", "body": {"model": MODEL}}).status_code == 422
    missing = user_client.post("/api/v1/tasks/title/completions", json={
        "model": "no-such-model", "messages": chat("x")})
    assert missing.status_code == 404
    assert user_client.get("/api/v1/agents/tasks/nope").status_code == 404
    # Refused requests leave no task behind (the unknown model is found only by the job).
    after = user_client.get("/api/v1/agents/tasks", params={"limit": 500}).json()
    assert len(after) == before + 1 and after[0]["status"] == "failed"
