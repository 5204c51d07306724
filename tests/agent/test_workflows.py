"""Workflows: declared steps that pass named values, each step stored as it runs; cancel; bad
definitions refused; a run caught by a restart of the service is failed, never lost."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agent.conftest import MODEL, AgentStack, wait_done
from tests.conftest import bearer, signup
from tests.support.procs import start_service

PIPELINE_YAML = f"""
name: three steps
model: {MODEL}
inputs:
  numbers: [3, 4, 5]
steps:
  - id: total
    type: code
    code: "sum({{{{numbers}}}})"
  - id: doubled
    type: tool
    tool: calculator
    arguments: {{expression: "{{{{total.result}}}} * 2"}}
    output: answer
  - id: big
    type: branch
    if: "int(answer) > 10"
    then: report
    else: end
  - id: small
    type: model
    prompt: "reply: small"
  - id: report
    type: model
    prompt: "reply: the answer is {{{{answer}}}}"
    output: summary
"""


def wait_run(client: httpx.Client, run_id: str, timeout: float = 60) -> dict[str, Any]:
    return wait_done(client, f"/api/v1/agents/workflows/runs/{run_id}", timeout)


def wait_first_step(client: httpx.Client, run_id: str) -> None:
    """Until the run has begun its first step (so a cancel or a kill finds it working)."""
    deadline = time.monotonic() + 30
    while not client.get(f"/api/v1/agents/workflows/runs/{run_id}").json()["steps"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def create(client: httpx.Client, definition: str | dict[str, Any]) -> httpx.Response:
    """YAML travels as a string in JSON: the gateway takes JSON, forms and files only."""
    if isinstance(definition, str):
        return client.post("/api/v1/agents/workflows",
                           json={"name": "from yaml", "definition": definition})
    return client.post("/api/v1/agents/workflows", json=definition)


def test_a_workflow_runs_to_the_end_and_shows_each_step(user_client: httpx.Client) -> None:
    created = create(user_client, PIPELINE_YAML)
    assert created.status_code == 200, created.text
    workflow = created.json()
    started = user_client.post(f"/api/v1/agents/workflows/{workflow['id']}/runs", json={})
    assert started.status_code == 202
    run = wait_run(user_client, started.json()["id"])
    assert run["status"] == "completed", run
    steps = [(s["step_id"], s["status"]) for s in run["steps"]]
    assert steps == [("total", "completed"), ("doubled", "completed"), ("big", "completed"),
                     ("report", "completed")]
    assert run["steps"][0]["output"]["result"] == "12"
    assert run["values"]["answer"] == 24 and run["values"]["summary"] == "the answer is 24"
    listed = user_client.get(f"/api/v1/agents/workflows/{workflow['id']}/runs").json()
    assert [r["id"] for r in listed] == [run["id"]]
    small = user_client.post(f"/api/v1/agents/workflows/{workflow['id']}/runs",
                             json={"inputs": {"numbers": [1, 1]}}).json()
    ended = wait_run(user_client, small["id"])
    assert [s["step_id"] for s in ended["steps"]] == ["total", "doubled", "big"]


def test_a_failing_step_fails_the_run(user_client: httpx.Client) -> None:
    workflow = create(user_client, {"name": "fails", "definition": {"steps": [
        {"id": "boom", "type": "code", "code": "raise ValueError('no')"},
        {"id": "never", "type": "tool", "tool": "calculator",
         "arguments": {"expression": "1"}}]}}).json()
    run = user_client.post(f"/api/v1/agents/workflows/{workflow['id']}/runs", json={}).json()
    ended = wait_run(user_client, run["id"])
    assert ended["status"] == "failed" and "ValueError: no" in ended["error"]
    assert [(s["step_id"], s["status"]) for s in ended["steps"]] == [("boom", "failed")]


@pytest.mark.parametrize(("definition", "status", "words"), [
    ({"name": "c", "steps": [{"id": "a", "type": "tool", "tool": "calculator", "next": "b"},
                             {"id": "b", "type": "branch", "if": "true", "then": "a"}]},
     422, "cycle: a -> b -> a"),
    ({"name": "u", "steps": [{"id": "a", "type": "branch", "if": "1", "then": "ghost"}]},
     422, "unknown step 'ghost'"),
    ({"name": "t", "steps": [{"id": "a", "type": "teleport"}]}, 422, "teleport"),
    ({"name": "v", "steps": [{"id": "a", "type": "model", "prompt": "{{nothing}}"}]},
     422, "nothing"),
    ({"name": "d", "steps": [{"id": "a", "type": "code", "code": "1"},
                             {"id": "a", "type": "code", "code": "2"}]}, 422, "unique"),
    ({"name": "e", "steps": []}, 422, "steps"),
    ("name: y\nsteps: [unclosed", 400, "YAML"),
])
def test_bad_definitions(user_client: httpx.Client, definition: Any, status: int,
                         words: str) -> None:
    response = create(user_client, definition)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"] if isinstance(response.json()["detail"], str) \
        else words in str(response.json()["detail"])
    checked = user_client.post("/api/v1/agents/workflows/validate", json={
        "steps": [{"id": "a", "type": "code", "code": "1"}]})
    assert checked.status_code == 200 and checked.json()["valid"]


def test_cancel_stops_a_run(user_client: httpx.Client) -> None:
    workflow = create(user_client, {"name": "slow", "steps": [
        {"id": "wait", "type": "code", "code": "import time\ntime.sleep(30)", "timeout": 60}]})
    run = user_client.post(f"/api/v1/agents/workflows/{workflow.json()['id']}/runs",
                           json={}).json()
    wait_first_step(user_client, run["id"])
    user_client.post(f"/api/v1/agents/workflows/runs/{run['id']}/cancel")
    ended = wait_run(user_client, run["id"], timeout=15)
    assert ended["status"] == "cancelled"
    assert ended["steps"][0]["status"] == "cancelled"


def test_a_yaml_body_on_the_service_itself(agent_stack: AgentStack) -> None:
    response = httpx.post(f"{agent_stack.agent.url}/api/v1/agents/workflows",
                          content=PIPELINE_YAML.encode(), timeout=30,
                          headers={**agent_stack.user, "Content-Type": "application/yaml"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "three steps"
    assert [s["id"] for s in response.json()["definition"]["steps"]] == [
        "total", "doubled", "big", "small", "report"]


def test_workflows_belong_to_their_owner(admin_client: httpx.Client,
                                         user_client: httpx.Client) -> None:
    workflow = create(user_client, PIPELINE_YAML).json()
    other = signup(str(user_client.base_url), name="Other")
    seen = httpx.get(f"{user_client.base_url}/api/v1/agents/workflows/{workflow['id']}",
                     headers=bearer(other["token"]))
    assert seen.status_code == 404
    assert admin_client.get(f"/api/v1/agents/workflows/{workflow['id']}").status_code == 200
    assert user_client.delete(f"/api/v1/agents/workflows/{workflow['id']}").json() is True


def test_a_run_caught_by_a_restart_is_failed_not_lost(agent_stack: AgentStack,
                                                      tmp_path: Path) -> None:
    env = {**agent_stack.env, "OWUI_DATA_DIR": str(tmp_path)}
    agent = start_service("agent", env, agent_stack.log_dir)
    try:
        with httpx.Client(base_url=agent.url, headers=agent_stack.user, timeout=30) as client:
            workflow = client.post("/api/v1/agents/workflows", json={"name": "long", "steps": [
                {"id": "wait", "type": "code", "code": "import time\ntime.sleep(60)",
                 "timeout": 120}]}).json()
            run = client.post(f"/api/v1/agents/workflows/{workflow['id']}/runs",
                              json={}).json()
            wait_first_step(client, run["id"])
            agent.process.send_signal(signal.SIGKILL)
            agent.process.wait(10)
        agent = start_service("agent", env, agent_stack.log_dir, port=agent.port)
        with httpx.Client(base_url=agent.url, headers=agent_stack.user, timeout=30) as client:
            ended = wait_run(client, run["id"], timeout=30)
        assert ended["status"] == "failed" and "Interrupted" in ended["error"]
        assert ended["steps"][0]["status"] == "failed"
        assert "Interrupted" in ended["steps"][0]["error"]
    finally:
        agent.stop()
