"""The chat turn with the chat service on PostgreSQL (the server profile's store): turns sent at
once into one chat are stored one after the other (the chat row locked while the parent is
picked), and a turn whose process was killed is found and marked interrupted at the next start.
The chat service is called directly here, with the agent and inference services behind it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from owui.core.tokens import issue_token
from tests.conftest import bearer
from tests.support.postgres import make_postgres_database, postgres_server  # noqa: F401
from tests.support.procs import Proc, start_service
from tests.turn.conftest import (
    Reader,
    messages,
    new_chat,
    start_inference_and_agent,
    turn,
    wait_message,
    words,
)


class PgStack:
    """The processes the fixture started, which it stops at the end: a chat service restarted
    replaces the old one in that list, so the new process is stopped too."""

    def __init__(self, procs: list[Proc], env: dict[str, str], log_dir: Path) -> None:
        self.procs, self.env, self.log_dir = procs, env, log_dir

    @property
    def chat(self) -> Proc:
        return self.procs[-1]

    def restart_chat(self) -> None:
        """A new chat service on the old one's port (the old one ended already)."""
        self.chat.stop()
        self.procs[-1] = start_service("chat", self.env, self.log_dir, port=self.chat.port)


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory, provider: Proc, jwt_secret: str,
       make_postgres_database) -> Iterator[PgStack]:  # noqa: F811
    log_dir = tmp_path_factory.mktemp("turn-pg-logs")
    base = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text", "OWUI_ACCESS_LOG": "false"}
    started: list[Proc] = []
    try:
        agent = start_inference_and_agent(base, provider, "pg", tmp_path_factory, log_dir,
                                          started)
        env = {**base, "DATABASE_URL": make_postgres_database(), "AGENT_SERVICE_URL": agent.url,
               "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("pg-chat"))}
        chat = start_service("chat", env, log_dir, wait=False)
        started.append(chat)
        for proc in started:
            proc.wait_ready(timeout=60)
        yield PgStack(started, env, log_dir)
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture(scope="module")
def pg_client(pg: PgStack, jwt_secret: str) -> Iterator[httpx.Client]:
    token, _ = issue_token(jwt_secret, "pg-turner", "user", timedelta(hours=1))
    with httpx.Client(base_url=pg.chat.url, headers=bearer(token), timeout=120) as client:
        yield client


def test_turns_at_once_on_postgres_are_stored_one_after_the_other(
        pg_client: httpx.Client) -> None:
    chat_id = new_chat(pg_client)
    results: list[list[dict]] = []

    def send(index: int) -> None:
        results.append(turn(pg_client, chat_id, model="gpt-fake-slow", content=f"turn {index}",
                            params={"max_tokens": 3}))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stored = messages(pg_client, chat_id)
    assert len(stored) == 8
    # One chain: each turn's question under the answer of the turn stored before it.
    users = [m for m in stored.values() if m["role"] == "user"]
    assert users[0]["parentId"] is None
    for before, after in itertools.pairwise(users):
        assert after["parentId"] == before["childrenIds"][0]
    assert all(m["status"] == "done" and m["content"] == words(3)
               for m in stored.values() if m["role"] == "assistant")


def test_a_turn_killed_with_its_process_is_marked_interrupted_at_the_next_start(
        pg: PgStack, pg_client: httpx.Client) -> None:
    chat_id = new_chat(pg_client)
    form = {"model": "gpt-fake-slow", "content": "long", "params": {"max_tokens": 300}}
    with pytest.raises(httpx.RemoteProtocolError), \
            pg_client.stream("POST", f"/api/v1/chats/{chat_id}/completions",
                             json=form) as response:
        reader = Reader(response)
        reader.until("token")
        pg.chat.process.kill()
        reader.until(None)
    pg.chat.process.wait(10)
    pg.restart_chat()
    stored = wait_message(pg_client, chat_id, reader.start["message"]["id"])
    assert stored["status"] == "error" and "Interrupted" in stored["error"]["content"]
