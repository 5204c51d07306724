"""A stop sent to the chat replica that does not run the turn (issue 21): two chat services on
one PostgreSQL database and one Redis (a channel prefix of this run's own), a slow fake provider
(FAKE_WORDS, FAKE_CHUNK_DELAY). The turn runs on replica A, the stop goes to replica B: B
answers as for a local stop once A stopped it (what was written kept, status stopped); another
user's stop is a 404; a turn whose replica died is ended as stopped after B's wait; without
REDIS_URL the stop of another process's turn stays a 409."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from owui.core.tokens import issue_token
from tests.conftest import bearer
from tests.support.postgres import make_postgres_database, postgres_server  # noqa: F401
from tests.support.procs import Proc, start_fake, start_service
from tests.turn.conftest import Reader, messages, new_chat, start_inference_and_agent, words

REDIS_URL = "redis://127.0.0.1:6379/0"
WORDS = 600  # 30 s of answer at 0.05 s a word: stopped long before its end
FORM = {"model": "gpt-fake", "content": "a long one"}


class Replicas:
    """Inference, agent and two chat services (A and B) sharing a database and Redis."""

    def __init__(self, procs: list[Proc], chat_env: dict[str, str], log_dir: Path) -> None:
        self.procs, self.chat_env, self.log_dir = procs, chat_env, log_dir

    @property
    def a(self) -> Proc:
        return self.procs[-2]

    @property
    def b(self) -> Proc:
        return self.procs[-1]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str,
             make_postgres_database) -> Iterator[Replicas]:  # noqa: F811
    log_dir = tmp_path_factory.mktemp("replica-stop-logs")
    base = {"JWT_SECRET_KEY": jwt_secret, "OWUI_LOG_FORMAT": "text", "OWUI_ACCESS_LOG": "false"}
    started: list[Proc] = []
    try:
        provider = start_fake("openai", "openai-replica-stop", {
            "FAKE_MODELS": "gpt-fake", "FAKE_WORDS": str(WORDS), "FAKE_CHUNK_DELAY": "0.05"},
            log_dir)
        started.append(provider)
        agent = start_inference_and_agent(base, provider, "rs", tmp_path_factory, log_dir,
                                          started)
        env = {**base, "DATABASE_URL": make_postgres_database(), "AGENT_SERVICE_URL": agent.url,
               "OWUI_DATA_DIR": str(tmp_path_factory.mktemp("rs-chat")),
               "REDIS_URL": REDIS_URL,
               "WEBSOCKET_REDIS_CHANNEL": f"owui-test-replica-stop-{uuid.uuid4().hex}"}
        # A and B: migrations at start run once, under an advisory lock
        started += [start_service("chat", env, log_dir, wait=False) for _ in "AB"]
        for proc in started[1:]:
            proc.wait_ready(timeout=120)
        yield Replicas(started, env, log_dir)
    finally:
        for proc in reversed(started):
            proc.stop()


def _client(url: str, jwt_secret: str, user_id: str) -> httpx.Client:
    token, _ = issue_token(jwt_secret, user_id, "user", timedelta(hours=1))
    return httpx.Client(base_url=url, headers=bearer(token), timeout=60)


@pytest.fixture
def user_id() -> str:
    return f"replica-stopper-{uuid.uuid4().hex[:8]}"


def test_a_stop_sent_to_the_other_replica_stops_the_turn(
        replicas: Replicas, jwt_secret: str, user_id: str) -> None:
    with _client(replicas.a.url, jwt_secret, user_id) as on_a, \
            _client(replicas.b.url, jwt_secret, user_id) as on_b, \
            _client(replicas.b.url, jwt_secret, "someone-else") as stranger:
        chat_id = new_chat(on_a)
        with on_a.stream("POST", f"/api/v1/chats/{chat_id}/completions", json=FORM) as response:
            reader = Reader(response)
            reader.until("token")
            message_id = reader.start["message"]["id"]
            path = f"/api/v1/chats/{chat_id}/messages/{message_id}/stop"
            refused = stranger.post(path)
            not_theirs = stranger.post(f"/api/tasks/stop/{message_id}")
            began = time.monotonic()
            stopped = on_b.post(path)
            took = time.monotonic() - began
            assert stopped.status_code == 200, stopped.text
            events = reader.until(None)  # A's stream ends, with the stopped message
        assert refused.status_code == 404 and not_theirs.status_code == 404
        body = stopped.json()
        assert body["id"] == message_id and body["status"] == "stopped"
        assert body["content"].startswith("word0 ") and len(body["content"]) < len(words(WORDS))
        assert took < 2.0  # A answered: B did not wait out its timeout
        assert events[-1]["type"] == "done" and events[-1]["message"]["status"] == "stopped"
        streamed = "".join(e["content"] for e in events if e["type"] == "token")
        assert streamed == body["content"]
        for replica in (on_a, on_b):
            stored = messages(replica, chat_id)[message_id]
            assert stored["status"] == "stopped" and stored["content"] == body["content"]
        again = on_b.post(path)  # ended: stopping it again changes nothing, at once
        assert again.status_code == 200 and again.json()["content"] == body["content"]


def test_a_task_stop_sent_to_the_other_replica_stops_the_turn(
        replicas: Replicas, jwt_secret: str, user_id: str) -> None:
    """Open WebUI's /api/tasks: listed on either replica, stopped from the other one."""
    with _client(replicas.a.url, jwt_secret, user_id) as on_a, \
            _client(replicas.b.url, jwt_secret, user_id) as on_b:
        chat_id = new_chat(on_a)
        with on_a.stream("POST", f"/api/v1/chats/{chat_id}/completions", json=FORM) as response:
            reader = Reader(response)
            reader.until("token")
            task_id = reader.start["message"]["id"]
            listed = on_b.get(f"/api/tasks/chat/{chat_id}")
            stopped = on_b.post(f"/api/tasks/chat/{chat_id}/stop")
            events = reader.until(None)
        assert listed.json() == {"task_ids": [task_id]}
        assert stopped.status_code == 200, stopped.text
        assert stopped.json() == {"status": True, "task_ids": [task_id]}
        assert events[-1]["message"]["status"] == "stopped"
        assert on_b.get(f"/api/tasks/chat/{chat_id}").json() == {"task_ids": []}


def test_a_turn_whose_replica_died_is_ended_as_stopped(
        replicas: Replicas, jwt_secret: str, user_id: str) -> None:
    """No replica answers the stop: after B's wait (~2 s) the turn's row ends, stopped, with
    what was stored of it (nothing is stored per token), not 409 and not pending."""
    doomed = start_service("chat", replicas.chat_env, replicas.log_dir, wait=False)
    try:
        doomed.wait_ready(timeout=120)
        with _client(doomed.url, jwt_secret, user_id) as on_doomed, \
                _client(replicas.b.url, jwt_secret, user_id) as on_b:
            chat_id = new_chat(on_doomed)
            with pytest.raises(httpx.RemoteProtocolError), \
                    on_doomed.stream("POST", f"/api/v1/chats/{chat_id}/completions",
                                     json=FORM) as response:
                reader = Reader(response)
                reader.until("token")
                doomed.process.kill()
                reader.until(None)
            doomed.process.wait(10)
            message_id = reader.start["message"]["id"]
            assert messages(on_b, chat_id)[message_id]["status"] == "pending"
            began = time.monotonic()
            stopped = on_b.post(f"/api/v1/chats/{chat_id}/messages/{message_id}/stop")
            took = time.monotonic() - began
            assert stopped.status_code == 200, stopped.text
            assert stopped.json()["status"] == "stopped" and took >= 2.0
            assert messages(on_b, chat_id)[message_id]["status"] == "stopped"
            assert on_b.get(f"/api/tasks/chat/{chat_id}").json() == {"task_ids": []}
    finally:
        doomed.stop()


def test_without_redis_a_stop_for_another_process_is_a_conflict(
        replicas: Replicas, jwt_secret: str, user_id: str) -> None:
    """One process's deployment (no REDIS_URL): a turn this process does not run is out of
    reach, and the stop says so (409) as before; the process running it stops it."""
    env = {k: v for k, v in replicas.chat_env.items() if k != "REDIS_URL"}
    alone = start_service("chat", env, replicas.log_dir, wait=False)
    try:
        alone.wait_ready(timeout=120)
        with _client(replicas.a.url, jwt_secret, user_id) as on_a, \
                _client(alone.url, jwt_secret, user_id) as on_alone:
            chat_id = new_chat(on_a)
            with on_a.stream("POST", f"/api/v1/chats/{chat_id}/completions",
                             json=FORM) as response:
                reader = Reader(response)
                reader.until("token")
                message_id = reader.start["message"]["id"]
                path = f"/api/v1/chats/{chat_id}/messages/{message_id}/stop"
                refused = on_alone.post(path)
                task = on_alone.post(f"/api/tasks/stop/{message_id}")
                stopped = on_a.post(path)
                reader.until(None)
        assert refused.status_code == 409 and "another replica" in refused.json()["detail"]
        assert task.status_code == 409 and "another replica" in task.json()["detail"]
        assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    finally:
        alone.stop()
