"""The rendered Compose deployment, run for real in containers (issue 21): podman, the images
built here (owui's by `owui image build`), `owui render compose --profile server`, podman-compose.

Its own CI step (.ci/run, after `make test`): it builds images and starts containers for
minutes, so the file is named outside pytest's test_*.py pattern and runs only when named:
    .venv/bin/pytest tests/containers/e2e_compose.py
One replica of each service first (health, sign-up, chat, files and vectors, a socket.io turn,
down/up, a killed service, PostgreSQL down under traffic, bad input), then two gateways and two
chat replicas (a shared rate limit, revocation, socket.io events and stops across replicas).
Everything made is removed by name at the end (containers, volumes, networks).
"""

from __future__ import annotations

import asyncio
import os
import socket as sockets
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.containers.deployment import Deployment, profile, render, wait_answering
from tests.containers.podman import IMAGES, Podman, log
from tests.realtime.sockets import Socket
from tests.realtime.webapp import app_body

PROJECT = f"owui-e2e-{os.getpid()}"
SMALL = " ".join(f"Harbour note {i}: the ferry leaves pier {i} at dawn." for i in range(6))
TIMINGS: dict[str, float] = {}
pytestmark = pytest.mark.timeout(3000)


def timed(step: str, seconds: float) -> None:
    TIMINGS[step] = round(seconds, 1)
    log(f"{step}: {seconds:.1f} s")


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    tool = Podman.here(tmp_path_factory.mktemp("podman"))
    try:
        yield tool
    finally:
        tool.remove_working_containers()
        for step, seconds in {**tool.timings, **TIMINGS}.items():
            log(f"time {step}: {seconds} s")


@pytest.fixture(scope="session")
def images(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    started = time.monotonic()
    if os.environ.get("OWUI_CONTAINERS_REUSE_IMAGES") == "1":  # iterating on the test itself
        assert all(podman.exists(image) for image in IMAGES.values()), IMAGES
        return dict(IMAGES)
    built = podman.images(tmp_path_factory.mktemp("build"))
    timed("base and images", time.monotonic() - started)
    return built


def deployment(podman: Podman, images: dict[str, str], folder: Path, name: str,
               chat_replicas: int, gateways: int) -> Deployment:
    render(folder, profile(folder, name, chat_replicas), images)
    deploy = Deployment(podman, folder, f"{PROJECT}-{name}", gateways=gateways)
    deploy.prepare(images["owui"])
    return deploy


@pytest.fixture(scope="class")
def single(podman: Podman, images: dict[str, str],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deploy = deployment(podman, images, tmp_path_factory.mktemp("single"), "single", 1, 1)
    try:
        timed("single: up until healthy", deploy.up())
        yield deploy
    finally:
        deploy.remove()


@pytest.fixture(scope="class")
def replicas(podman: Podman, images: dict[str, str],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deploy = deployment(podman, images, tmp_path_factory.mktemp("replicas"), "replicas", 2, 2)
    try:
        timed("replicas: up until healthy", deploy.up())
        yield deploy
    finally:
        deploy.remove()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_up(url: str) -> dict[str, Any]:
    answer = httpx.post(f"{url}/api/v1/auths/signup", timeout=60, json={
        "name": "Ada", "email": f"{uuid.uuid4().hex[:10]}@example.com",
        "password": "correct-horse"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def active_false(chat_id: str) -> Any:
    return lambda events: any(e["chat_id"] == chat_id and e["data"]["type"] == "chat:active"
                              and e["data"]["data"]["active"] is False for e in events)


def said(socket: Socket, chat_id: str) -> str:
    return "".join(e["data"]["data"]["delta"] for e in socket.of(chat_id)
                   if isinstance(e["data"]["data"], dict)
                   and e["data"]["data"].get("type") == "response.output_text.delta")


async def socket_turn(url: str, token: str, content: str,
                      listeners: tuple[str, ...] = ()) -> tuple[str, str, list[Socket]]:
    """A web-app turn through `url` (a gateway): (chat id, the answer heard, the sockets: one
    through `url`, one per listener URL), the answer heard in full on the first."""
    sockets_ = [await Socket().connect(url, token)]
    for listener in listeners:
        sockets_.append(await Socket().connect(listener, token))
    try:
        body = app_body(sockets_[0].client.get_sid(), content)
        async with httpx.AsyncClient(base_url=url, headers=bearer(token), timeout=60) as http:
            answer = await http.post("/api/chat/completions", json=body)
        assert answer.status_code == 200, answer.text
        chat_id = answer.json()["chat_id"]
        for socket in sockets_:
            await socket.wait_for(active_false(chat_id), within=60)
    finally:
        for socket in sockets_:
            await socket.close()
    return chat_id, said(sockets_[0], chat_id), sockets_


def wait_processed(client: httpx.Client, file_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/files/{file_id}/process/status").json()
        if status.get("status") in ("completed", "failed"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"file {file_id} still {status} after {timeout} s")


def query(client: httpx.Client, collection: str) -> list[str]:
    answer = client.post("/api/v1/retrieval/query/collection", json={
        "collection_names": [collection], "query": "when does the ferry leave", "k": 3})
    assert answer.status_code == 200, answer.text
    return sorted(text for texts in answer.json()["documents"] for text in texts)


class TestOneReplicaEach:
    """Kept between the steps: the account, the chat, the file and the collection."""

    state: dict[str, Any] = {}

    def test_everything_healthy_and_only_the_gateway_published(
            self, single: Deployment) -> None:
        published = {c["Labels"]["io.podman.compose.service"] for c in single.containers()
                     if c.get("Ports")}
        assert published == {"gateway"}
        services = {c["Labels"]["io.podman.compose.service"] for c in single.containers()}
        assert services >= {"postgres", "redis", "chroma", "gateway", "inference", "agent",
                            "retrieval", "chat"}
        assert httpx.get(f"{single.url}/readyz", timeout=30).status_code == 200

    def test_sign_up_chat_upload_query_and_a_socket_turn(self, single: Deployment) -> None:
        admin = sign_up(single.url)
        assert admin["role"] == "admin"
        assert sign_up(single.url)["role"] == "pending"  # the server profile's default
        token = admin["token"]
        with httpx.Client(base_url=single.url, headers=bearer(token), timeout=120) as client:
            models = client.get("/api/models")
            assert models.status_code == 200, models.text
            assert "gpt-fake" in {m["id"] for m in models.json()["data"]}
            turn = client.post("/api/chat/completions", json={
                "model": "gpt-fake", "stream": False,
                "messages": [{"role": "user", "content": "hello from a container"}]})
            assert turn.status_code == 200, turn.text
            assert turn.json()["choices"][0]["message"]["content"]
            upload = client.post("/api/v1/files/", files={"file": ("harbour.txt",
                                                                   SMALL.encode())})
            assert upload.status_code == 200, upload.text
            file_id = upload.json()["id"]
            assert wait_processed(client, file_id)["status"] == "completed"
            knowledge = client.post("/api/v1/knowledge/create",
                                    json={"name": "harbour", "description": "notes"})
            assert knowledge.status_code == 200, knowledge.text
            knowledge_id = knowledge.json()["id"]
            added = client.post(f"/api/v1/knowledge/{knowledge_id}/file/add",
                                json={"file_id": file_id})
            assert added.status_code == 200, added.text
            hits = query(client, knowledge_id)
            assert hits and all("ferry" in text for text in hits)
        chat_id, answer, _ = asyncio.run(socket_turn(single.url, token, "over socket.io"))
        assert answer
        self.state.update(token=token, file_id=file_id, knowledge_id=knowledge_id,
                          hits=hits, chat_id=chat_id, answer=answer)

    def _kept(self, single: Deployment) -> None:
        state = self.state
        with httpx.Client(base_url=single.url, headers=bearer(state["token"]),
                          timeout=120) as client:
            chat = client.get(f"/api/v1/chats/{state['chat_id']}")
            assert chat.status_code == 200, chat.text
            contents = [m["content"] for m in chat.json()["chat"]["history"]["messages"]
                        .values()]
            assert state["answer"] in contents
            content = client.get(f"/api/v1/files/{state['file_id']}/content")
            assert content.status_code == 200 and content.content == SMALL.encode()
            assert query(client, state["knowledge_id"]) == state["hits"]

    def test_down_and_up_keeps_every_chat_file_and_vector(self, single: Deployment) -> None:
        single.down()
        assert single.containers() == []
        timed("single: up again until healthy", single.up())
        self._kept(single)

    def test_a_killed_service_comes_back_and_meanwhile_503(self, single: Deployment) -> None:
        [chat] = single.names("chat")
        before = single.restarts(chat)
        headers = bearer(self.state["token"])
        single.kill_process(chat)
        statuses: list[tuple[int, str | None]] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            answer = httpx.get(f"{single.url}/api/v1/chats/", headers=headers, timeout=30)
            statuses.append((answer.status_code, answer.headers.get("retry-after")))
            if answer.status_code == 200 and len(statuses) > 1:
                break
            time.sleep(0.2)
        assert statuses[-1][0] == 200, statuses[-5:]
        refused = statuses[:-1]
        assert {status for status, _ in refused} <= {503}, statuses
        assert all(retry and retry.isdigit() for _, retry in refused), statuses
        log(f"chat killed: {len(refused)} answers 503 before it came back; "
            f"Retry-After {sorted({str(r) for _, r in refused})}")
        assert single.restarts(chat) == before + 1
        single.wait_healthy()
        self._kept(single)

    def test_postgres_down_under_traffic_503_with_retry_after_then_recovery(
            self, single: Deployment) -> None:
        [postgres] = single.names("postgres")
        restarts = {c["Names"][0]: single.restarts(c["Names"][0])
                    for c in single.containers()}
        headers = bearer(self.state["token"])
        seen: list[tuple[int, str | None]] = []
        stop = threading.Event()

        def traffic() -> None:
            with httpx.Client(base_url=single.url, headers=headers, timeout=30) as client:
                while not stop.is_set():
                    answer = client.get(f"/api/v1/chats/{self.state['chat_id']}")
                    seen.append((answer.status_code, answer.headers.get("retry-after")))
                    time.sleep(0.1)

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            time.sleep(1)
            single.podman.run("stop", "-t", "0", postgres)
            time.sleep(5)
            single.podman.run("start", postgres)
            single.wait_healthy()
            time.sleep(2)
        finally:
            stop.set()
            worker.join(60)
        statuses = {status for status, _ in seen}
        assert 503 in statuses and statuses <= {200, 503}, statuses
        assert all(retry for status, retry in seen if status == 503), "503 without Retry-After"
        assert seen[-1][0] == 200, seen[-5:]
        after = {name: single.restarts(name) for name in restarts}
        assert after == restarts  # recovered without restarting a service
        self._kept(single)


class TestBadInput:
    def test_a_missing_secret_is_named(self, podman: Podman, images: dict[str, str],
                                       tmp_path: Path) -> None:
        deploy = deployment(podman, images, tmp_path, "nosecret", 1, 1)
        env = deploy.folder / ".env"
        env.write_text("".join(line + "\n" for line in env.read_text().splitlines()
                               if not line.startswith("JWT_SECRET_KEY=")))
        try:
            done = deploy.compose("up", "-d", check=False, timeout=300)
            assert done.returncode != 0
            assert "set JWT_SECRET_KEY in .env" in done.stdout + done.stderr
            assert deploy.containers() == []  # nothing started
        finally:
            deploy.remove()

    def test_an_image_that_does_not_exist_is_named(self, podman: Podman,
                                                   images: dict[str, str],
                                                   tmp_path: Path) -> None:
        missing = {**images, "owui": "localhost/owui-test-missing:none"}
        deploy = deployment(podman, missing, tmp_path, "noimage", 1, 1)
        try:
            done = deploy.compose("up", "-d", check=False, timeout=600)
            output = done.stdout + done.stderr
            assert "localhost/owui-test-missing:none" in output
            assert done.returncode != 0
        finally:
            deploy.remove()

    def test_a_port_already_taken_is_named(self, podman: Podman, images: dict[str, str],
                                           tmp_path: Path) -> None:
        deploy = deployment(podman, images, tmp_path, "porttaken", 1, 1)
        with sockets.socket() as taken:
            taken.bind(("127.0.0.1", deploy.ports[0]))
            taken.listen()
            try:
                done = deploy.compose("up", "-d", check=False, timeout=600)
                output = done.stdout + done.stderr
                assert "address already in use" in output, output[-2000:]
                assert str(deploy.ports[0]) in output
                assert done.returncode != 0
            finally:
                deploy.remove()


class TestTwoGatewaysTwoChats:
    def test_both_gateways_and_both_chat_replicas_serve(self, replicas: Deployment) -> None:
        assert len(replicas.names("chat")) == 2
        for url in replicas.urls:
            wait_answering(url)
        self.__class__.admin = sign_up(replicas.urls[0])

    def test_a_sign_out_on_one_is_honoured_by_the_other(self, replicas: Deployment) -> None:
        one, two = replicas.urls
        signed_in = httpx.post(f"{one}/api/v1/auths/signin", timeout=30, json={
            "email": self.admin["email"], "password": "correct-horse"})
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["token"]
        assert httpx.get(f"{two}/api/v1/auths/", headers=bearer(token)).status_code == 200
        assert httpx.post(f"{one}/api/v1/auths/signout",
                          headers=bearer(token)).status_code == 200
        deadline = time.monotonic() + 5  # REVOCATION_SYNC_INTERVAL is 1 s
        while httpx.get(f"{two}/api/v1/auths/", headers=bearer(token)).status_code != 401:
            assert time.monotonic() < deadline, "the other gateway still takes the token"
            time.sleep(0.1)

    def test_a_turn_on_one_chat_replica_reaches_a_socket_on_the_other(
            self, replicas: Deployment) -> None:
        chats = [f"http://{replicas.ip(name)}:8004" for name in replicas.names("chat")]
        token = self.admin["token"]
        chat_id, answer, heard = asyncio.run(socket_turn(replicas.urls[1], token,
                                                         "across replicas", tuple(chats)))
        assert answer
        for socket in heard[1:]:  # one replica ran it: both chat replicas' sockets heard it
            assert said(socket, chat_id) == answer

    def test_a_stop_sent_to_the_other_chat_replica_stops_the_turn(
            self, replicas: Deployment) -> None:
        one, two = (f"http://{replicas.ip(name)}:8004" for name in replicas.names("chat"))
        token = self.admin["token"]

        async def run() -> tuple[httpx.Response, dict[str, Any]]:
            socket = await Socket().connect(one, token)
            try:
                body = app_body(socket.client.get_sid(), "a long one", model="gpt-fake-slow")
                body["params"] = {"max_tokens": 200}
                async with httpx.AsyncClient(headers=bearer(token), timeout=60) as http:
                    begun = await http.post(f"{one}/api/chat/completions", json=body)
                    assert begun.status_code == 200, begun.text
                    chat_id = begun.json()["chat_id"]
                    await socket.wait_for(lambda events: said(socket, chat_id) != "")
                    stopped = await http.post(f"{two}/api/tasks/stop/{body['id']}")
                    await socket.wait_for(active_false(chat_id), within=60)
                    messages = (await http.get(f"{one}/api/v1/chats/{chat_id}/messages")).json()
            finally:
                await socket.close()
            return stopped, messages[-1]

        stopped, message = asyncio.run(run())
        assert stopped.status_code == 200, stopped.text
        assert message["status"] == "stopped"

    def test_the_sign_in_limit_is_shared(self, replicas: Deployment) -> None:
        """The default SIGNIN_RATE_LIMIT (10/minute per address): alternating gateways, one
        gateway alone would refuse only after 20; shared through Redis, by the 11th at most."""
        wrong = {"email": self.admin["email"], "password": "wrong-horse"}
        statuses = []
        for attempt in range(20):
            url = replicas.urls[attempt % 2]
            statuses.append(httpx.post(f"{url}/api/v1/auths/signin", json=wrong,
                                       timeout=30).status_code)
        first = statuses.index(429)
        assert first <= 10, statuses
        assert set(statuses[first:]) == {429}, statuses
        assert {429} <= {statuses[i] for i in range(first, 20) if i % 2 == 0}
        assert {429} <= {statuses[i] for i in range(first, 20) if i % 2 == 1}

