"""PostgreSQL stops for a few seconds under load, the services on it as in the server profile:
requests fail with 503 and a detail naming the database (never 500), /readyz says not ready,
and every service answers again once PostgreSQL is back, without a restart."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

from owui.core.services import NAMES
from tests.faults.conftest import Answers, account, keep_calling, postgres_profile, wait_for
from tests.helpers_cli import UpStack
from tests.support.postgres import PostgresServer, start_throwaway_cluster

CLIENTS_PER_ROUTE = 2


@pytest.fixture
def cluster() -> Iterator[PostgresServer]:
    """A cluster of the test's own: the shared server must not be stopped."""
    server = start_throwaway_cluster()
    try:
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):  # left stopped by a failed test
            server.pg_ctl("start")
        server.stop()


def routes(chat_id: str) -> dict[str, Callable[[httpx.AsyncClient], object]]:
    """One or two calls per service that read or write its database."""
    return {
        "gateway: me": lambda c: c.get("/api/v1/auths/"),
        "chat: read (driver)": lambda c: c.get(f"/api/v1/chats/{chat_id}"),
        "chat: append (driver)": lambda c: c.post(f"/api/v1/chats/{chat_id}/messages",
                                                  json={"role": "user", "content": "hi"}),
        "chat: folders (ORM)": lambda c: c.get("/api/v1/folders/"),
        "inference: connections": lambda c: c.get("/api/v1/inference/connections"),
        "retrieval: knowledge": lambda c: c.get("/api/v1/knowledge/"),
        "agent: tools": lambda c: c.get("/api/v1/tools/"),
    }


async def load(gateway: str, headers: dict[str, str], chat_id: str, seconds: float,
               during: Callable[[], None] | None = None) -> Answers:
    """Every route called by a few clients for `seconds`; `during` runs (in a thread) at
    the start, and the load goes on until it has returned too."""
    answers, stop = Answers(), asyncio.Event()
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=60) as client:
        loops = [asyncio.create_task(keep_calling(client, label, call, answers, stop))
                 for label, call in routes(chat_id).items() for _ in range(CLIENTS_PER_ROUTE)]
        action = asyncio.create_task(asyncio.to_thread(during or (lambda: None)))
        await asyncio.sleep(seconds)
        await action
        stop.set()
        await asyncio.gather(*loops)
    return answers


def all_answer(gateway: str, headers: dict[str, str], chat_id: str) -> bool:
    with httpx.Client(base_url=gateway, headers=headers, timeout=30) as client:
        return all(call(client).status_code == 200  # type: ignore[attr-defined]
                   for call in routes(chat_id).values())


def readiness(stack: UpStack) -> dict[str, int]:
    return {name: httpx.get(f"{stack.url(name)}/readyz", timeout=30).status_code
            for name in NAMES}


def test_postgres_stopped_under_load(tmp_path: Path, cluster: PostgresServer,
                                     up_stack: Callable[..., UpStack]) -> None:
    stack = up_stack("--profile", postgres_profile(tmp_path), DATABASE_URL=cluster.url("owui"))
    gateway = stack.url("gateway")
    headers = account(gateway)  # the first account: admin, so every route is open to it
    chat_id = httpx.post(f"{gateway}/api/v1/chats/new", json={"chat": {"title": "t"}},
                         headers=headers).json()["id"]
    pids = {name: proc.pid for name, proc in stack.services().items()}

    before = asyncio.run(load(gateway, headers, chat_id, 2))
    assert before.statuses() == {200}, before.seen

    down = asyncio.run(load(gateway, headers, chat_id, 6,
                            during=lambda: cluster.pg_ctl("stop", "-m", "immediate")))
    assert readiness(stack) == dict.fromkeys(NAMES, 503)
    shown = httpx.get(f"{gateway}/api/v1/chats/{chat_id}", headers=headers, timeout=30)
    assert shown.status_code == 503 and shown.headers.get("retry-after"), shown.text
    assert "chat database" in shown.json()["detail"], shown.text

    cluster.pg_ctl("start")
    wait_for(lambda: all_answer(gateway, headers, chat_id), 60, "every route answering again")
    after = asyncio.run(load(gateway, headers, chat_id, 2))

    assert down.statuses() <= {200, 503}, (down.seen, down.bodies)
    for label, counter in down.seen.items():
        assert counter[503] > 0, f"{label} never failed with the database down: {counter}"
        assert "database" in down.bodies[(label, 503)], down.bodies[(label, 503)]
    assert after.statuses() == {200}, after.seen
    assert readiness(stack) == dict.fromkeys(NAMES, 200)
    assert {name: proc.pid for name, proc in stack.services().items()} == pids, \
        "a service was restarted"
    assert "exited" not in stack.log()
