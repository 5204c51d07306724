"""A stack of its own for the agent tests: a fake OpenAI provider (with its `agent` switch, so
that the model answers with the tool calls a test asks for), a fake web search engine, the real
inference and retrieval services, the agent service with small code-execution limits, and a
gateway in front; one admin and one user."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.support.procs import Proc, free_port, start_fake, start_service

MODEL = "gpt-fake-agent"
MODELS = (f"gpt-fake;{MODEL};gpt-fake-agent-filtered;gpt-fake-agent-tooled;gpt-fake-slow;"
          "text-embedding-fake")
CODE_ENV = {"CODE_EXECUTION_TIMEOUT": "8", "CODE_EXECUTION_MEMORY_LIMIT": "512MiB",
            "CODE_EXECUTION_MAX_PROCESSES": "24", "CODE_EXECUTION_CPU_LIMIT": "60",
            "CODE_EXECUTION_MAX_FILE_SIZE": "8MiB", "CODE_EXECUTION_OUTPUT_LIMIT": "64KiB",
            "CODE_EXECUTION_IDLE_TIMEOUT": "60", "AGENT_TOOL_TIMEOUT": "5"}


@dataclass
class AgentStack:
    gateway: str
    agent: Proc
    provider: Proc
    data_dir: Path
    admin_token: str
    user_token: str
    env: dict[str, str]
    log_dir: Path

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.admin_token)

    @property
    def user(self) -> dict[str, str]:
        return bearer(self.user_token)

    def client(self, who: str = "user", **kwargs: Any) -> httpx.Client:
        headers = self.admin if who == "admin" else self.user
        return httpx.Client(base_url=self.gateway, headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="package")
def agent_stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str,
                ) -> Iterator[AgentStack]:
    log_dir = tmp_path_factory.mktemp("agent-logs")
    base = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text"}
    started: list[Proc] = []

    def data(name: str) -> str:
        return str(tmp_path_factory.mktemp(name))

    try:
        provider = start_fake("openai", "openai-agent", {"FAKE_MODELS": MODELS}, log_dir)
        web = start_fake("websearch", "websearch-agent", {}, log_dir)
        started += [provider, web]
        agent_port = free_port()  # inference lists the agent's actions and filters on models
        inference = start_service("inference", {
            **base, "OWUI_DATA_DIR": data("agent-inference"), "ENABLE_OLLAMA_API": "false",
            "OPENAI_API_BASE_URLS": f"{provider.url}/v1",
            "AGENT_SERVICE_URL": f"http://127.0.0.1:{agent_port}"}, log_dir, wait=False)
        started.append(inference)
        retrieval = start_service("retrieval", {
            **base, "OWUI_DATA_DIR": data("agent-retrieval"), "EMBEDDING_ENGINE": "openai",
            "EMBEDDING_MODEL": "text-embedding-fake", "INFERENCE_SERVICE_URL": inference.url,
            "WEB_SEARCH_ENGINE": "searxng", "SEARXNG_QUERY_URL": f"{web.url}/search",
            "ENABLE_RAG_LOCAL_WEB_FETCH": "true", "WEB_SEARCH_RESULT_COUNT": "2"},
            log_dir, wait=False)
        started.append(retrieval)
        data_dir = Path(data("agent-data"))
        env = {**base, "OWUI_DATA_DIR": str(data_dir), "INFERENCE_SERVICE_URL": inference.url,
               "RETRIEVAL_SERVICE_URL": retrieval.url, **CODE_ENV}
        agent = start_service("agent", env, log_dir, port=agent_port, wait=False)
        started.append(agent)
        for proc in (inference, retrieval, agent):
            proc.wait_ready(timeout=60)
        gateway = start_service("gateway", {
            **base, "OWUI_DATA_DIR": data("agent-gateway"), "INFERENCE_SERVICE_URL":
            inference.url, "RETRIEVAL_SERVICE_URL": retrieval.url, "AGENT_SERVICE_URL":
            agent.url, "RATE_LIMIT": "100000/minute", "SIGNIN_RATE_LIMIT": "100000/minute"},
            log_dir)
        started.append(gateway)
        admin = signup(gateway.url, name="Admin", email="admin@agent.test")
        user = signup(gateway.url, name="User", email="user@agent.test")
        yield AgentStack(gateway.url, agent, provider, data_dir, str(admin["token"]),
                         str(user["token"]), env, log_dir)
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture
def user_client(agent_stack: AgentStack) -> Iterator[httpx.Client]:
    with agent_stack.client("user") as client:
        yield client


@pytest.fixture
def admin_client(agent_stack: AgentStack) -> Iterator[httpx.Client]:
    with agent_stack.client("admin") as client:
        yield client


def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON events of an SSE answer (the closing [DONE] left out)."""
    import json

    events = []
    for line in response.iter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            events.append(json.loads(line[6:]))
    return events


def run(client: httpx.Client, content: str, **form: Any) -> list[dict[str, Any]]:
    """An agent run, streamed; its events."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], **form}
    with client.stream("POST", "/api/v1/agents/run", json=body) as response:
        assert response.status_code == 200, response.read().decode()
        return sse_events(response)


def wait_done(client: httpx.Client, path: str, timeout: float = 60) -> dict[str, Any]:
    """Poll a task or workflow run at `path` until it is neither queued nor running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.get(path).json()
        if found["status"] not in ("queued", "running"):
            return found
        time.sleep(0.1)
    raise TimeoutError(f"{path} still {found['status']}: {found}")
