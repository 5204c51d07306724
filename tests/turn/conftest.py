"""One `owui up` for the chat-turn tests (real processes: all five services), with the fake
OpenAI provider as a process of its own; helpers to run turns and read what was stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agent.conftest import sse_events
from tests.conftest import bearer, signup
from tests.helpers_cli import UpStack, clean_env, ready, wait_until
from tests.support.procs import Proc, start_fake, start_service

MODELS = "gpt-fake;gpt-fake-agent;gpt-fake-slow;gpt-fake-echo;text-embedding-fake"


@pytest.fixture(scope="package")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_fake("openai", "openai-turn", {"FAKE_MODELS": MODELS},
                      tmp_path_factory.mktemp("turn-logs"))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="package")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    proc = start_fake("websearch", "websearch-turn", {}, tmp_path_factory.mktemp("web-logs"))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="package")
def up(tmp_path_factory: pytest.TempPathFactory, provider: Proc, web: Proc
       ) -> Iterator[UpStack]:
    env = clean_env(OPENAI_API_BASE_URLS=f"{provider.url}/v1", OPENAI_API_KEYS="sk-fake",
                    WEB_SEARCH_ENGINE="searxng", SEARXNG_QUERY_URL=f"{web.url}/search",
                    ENABLE_RAG_LOCAL_WEB_FETCH="true", WEB_SEARCH_RESULT_COUNT="2",
                    ENABLE_OLLAMA_API="false", OWUI_LOG_FORMAT="text", OWUI_ACCESS_LOG="false",
                    RAG_EMBEDDING_MODEL_PRELOAD="true", RATE_LIMIT="100000/minute",
                    SIGNIN_RATE_LIMIT="100000/minute", CHAT_CONTEXT_TOKENS="8192")
    stack = UpStack.start(tmp_path_factory.mktemp("turn-up"), env=env)
    try:
        stack.wait_ready(timeout=180)
        yield stack
    finally:
        stack.stop()
        stack.kill_everything()


@pytest.fixture(scope="package")
def client(up: UpStack) -> Iterator[httpx.Client]:
    account = signup(up.url("gateway"), name="Turner", email="turner@turn.test")
    with httpx.Client(base_url=up.url("gateway"), headers=bearer(account["token"]),
                      timeout=120) as http:
        yield http


def wait_all_ready(up: UpStack, timeout: float = 120) -> None:
    """After a service was killed: `owui up` restarts it; wait until every one answers."""
    wait_until(lambda: all(ready(up.url(n)) for n in up.ports), timeout,
               "all services ready again", interval=0.2, log=up.log)


def new_chat(client: httpx.Client, **chat: Any) -> str:
    response = client.post("/api/v1/chats/new", json={"chat": chat})
    assert response.status_code == 200, response.text
    return response.json()["id"]


def turn(client: httpx.Client, chat_id: str, **form: Any) -> list[dict[str, Any]]:
    form.setdefault("model", "gpt-fake")
    with client.stream("POST", f"/api/v1/chats/{chat_id}/completions", json=form) as response:
        assert response.status_code == 200, response.read().decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_events(response)


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("type") == kind]


def messages(client: httpx.Client, chat_id: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/v1/chats/{chat_id}/messages")
    assert response.status_code == 200, response.text
    return {m["id"]: m for m in response.json()}


def wait_message(client: httpx.Client, chat_id: str, message_id: str,
                 timeout: float = 60) -> dict[str, Any]:
    """The stored message once it is no longer pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = messages(client, chat_id)[message_id]
        if message.get("status") != "pending":
            return message
        time.sleep(0.1)
    raise AssertionError(f"message {message_id} still pending after {timeout} s")


def words(count: int) -> str:
    """What the fake provider streams for max_tokens=count."""
    return "".join(f"word{i} " for i in range(count))


class Reader:
    """A streamed turn read a piece at a time: up to its first token, then the rest."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()
        self.seen: list[dict[str, Any]] = []

    def until(self, kind: str | None) -> list[dict[str, Any]]:
        for line in self.lines:
            if line.startswith("data: {"):
                self.seen.append(json.loads(line[6:]))
                if self.seen[-1]["type"] == kind:
                    return self.seen
        if kind is not None:
            raise AssertionError(f"no {kind} in {self.seen} ({self.response.status_code})")
        return self.seen

    @property
    def start(self) -> dict[str, Any]:
        return self.seen[0]


def start_inference_and_agent(base: dict[str, str], provider: Proc, name: str,
                              tmp_path_factory: pytest.TempPathFactory, log_dir: Path,
                              started: list[Proc]) -> Proc:
    """The inference and agent services a chat replica's turns run through (not waited for);
    both are added to `started` so the caller stops them. Returns the agent."""
    inference = start_service("inference", {
        **base, "OWUI_DATA_DIR": str(tmp_path_factory.mktemp(f"{name}-inference")),
        "ENABLE_OLLAMA_API": "false", "OPENAI_API_BASE_URLS": f"{provider.url}/v1"},
        log_dir, wait=False)
    started.append(inference)
    agent = start_service("agent", {
        **base, "OWUI_DATA_DIR": str(tmp_path_factory.mktemp(f"{name}-agent")),
        "INFERENCE_SERVICE_URL": inference.url}, log_dir, wait=False)
    started.append(agent)
    return agent
