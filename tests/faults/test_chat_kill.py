"""SIGKILL the chat service while 50 clients append messages through the gateway: `owui up`
restarts it, and afterwards every append that was answered 200 is stored, none twice.

Clients retry an append whose answer was lost (connection reset, 502/503 while the service is
down) with the same message id, as a client should: a 409 then says it had been stored."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from owui.core.services import NAMES
from tests.faults.conftest import account, postgres_profile, wait_for
from tests.helpers_cli import UpStack
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401

USERS, CHATS_PER_USER, CLIENTS_PER_CHAT = 5, 2, 5  # 50 clients on 10 chats
ACKED_BEFORE_KILL = 300
RUN_AFTER_RESTART = 3.0
RETRYABLE = {502, 503, 504}
GIVE_UP_AFTER = 120.0  # seconds one message may be retried


@dataclass
class Ledger:
    acked: set[tuple[str, str]] = field(default_factory=set)  # (chat, message) answered 200
    stored_before: set[tuple[str, str]] = field(default_factory=set)  # 409 after a retry
    attempted: set[tuple[str, str]] = field(default_factory=set)
    retries: Counter[int | str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    warmed_up: asyncio.Event = field(default_factory=asyncio.Event)  # enough acked to kill


async def append_until_settled(client: httpx.AsyncClient, chat_id: str, message_id: str,
                               ledger: Ledger) -> None:
    """One append, retried with the same id until an answer settles it."""
    key, tried, deadline = (chat_id, message_id), False, time.monotonic() + GIVE_UP_AFTER
    ledger.attempted.add(key)
    while time.monotonic() < deadline:
        try:
            response = await client.post(f"/api/v1/chats/{chat_id}/messages", json={
                "id": message_id, "role": "user", "content": f"content of {message_id}"})
        except httpx.TransportError as exc:
            ledger.retries[type(exc).__name__] += 1
        else:
            if response.status_code == 200:
                ledger.acked.add(key)
                if len(ledger.acked) >= ACKED_BEFORE_KILL:
                    ledger.warmed_up.set()
                return
            if response.status_code == 409 and tried:
                ledger.stored_before.add(key)
                return
            if response.status_code not in RETRYABLE:
                ledger.unexpected.append(f"{message_id}: {response.status_code} "
                                         f"{response.text[:200]}")
                return
            ledger.retries[response.status_code] += 1
        tried = True
        await asyncio.sleep(0.1)
    ledger.unexpected.append(f"{message_id}: no answer within {GIVE_UP_AFTER} s")


async def appender(gateway: str, headers: dict[str, str], chat_id: str, name: str,
                   ledger: Ledger, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=30) as client:
        number = 0
        while not stop.is_set():
            await append_until_settled(client, chat_id, f"{name}-{number}", ledger)
            number += 1


async def run(stack: UpStack, chats: dict[str, dict[str, str]], kill: Callable[[], None],
              ledger: Ledger) -> None:
    stop = asyncio.Event()
    clients = [asyncio.create_task(appender(stack.url("gateway"), headers, chat_id,
                                            f"{chat_id[:8]}-{i}", ledger, stop))
               for chat_id, headers in chats.items() for i in range(CLIENTS_PER_CHAT)]
    await ledger.warmed_up.wait()
    await asyncio.to_thread(kill)
    await asyncio.sleep(RUN_AFTER_RESTART)
    stop.set()
    await asyncio.gather(*clients)


def stored_messages(gateway: str, chats: dict[str, dict[str, str]]) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for chat_id, headers in chats.items():
        response = httpx.get(f"{gateway}/api/v1/chats/{chat_id}/messages",
                             params={"path": "all"}, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        for message in response.json():
            assert message["content"] == f"content of {message['id']}", message
            found[(chat_id, message["id"])] += 1
    return found


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest, tmp_path: Path,
          up_stack: Callable[..., UpStack]) -> UpStack:
    """`owui up` on SQLite (group commit on the chat service's writer thread), or on
    PostgreSQL (a transaction per append on the driver)."""
    if request.param == "sqlite":
        return up_stack()
    server: PostgresServer = request.getfixturevalue("postgres_server")
    base = f"owui_t{uuid.uuid4().hex[:10]}"
    server.databases.extend(f"{base}_{name}" for name in NAMES)  # dropped after the run
    return up_stack("--profile", postgres_profile(tmp_path), DATABASE_URL=server.url(base))


def test_appends_answered_200_survive_a_sigkill(stack: UpStack) -> None:
    gateway = stack.url("gateway")
    chats: dict[str, dict[str, str]] = {}
    for _ in range(USERS):
        headers = account(gateway)
        for _ in range(CHATS_PER_USER):
            created = httpx.post(f"{gateway}/api/v1/chats/new", json={"chat": {"title": "k"}},
                                 headers=headers, timeout=30)
            chats[created.json()["id"]] = headers
    chat_service = stack.services()["chat"]

    def kill_and_wait_for_restart() -> None:
        chat_service.kill()  # SIGKILL
        wait_for(lambda: "chat ready again" in stack.log(), 120, "the chat service restarted")

    ledger = Ledger()
    asyncio.run(run(stack, chats, kill_and_wait_for_restart, ledger))

    assert not ledger.unexpected, ledger.unexpected[:10]
    assert sum(ledger.retries.values()) > 0, "the kill did not hit a single append"
    assert stack.services()["chat"].pid != chat_service.pid
    stored = stored_messages(gateway, chats)
    assert [key for key, count in stored.items() if count > 1] == []
    assert ledger.acked - set(stored) == set(), "appends answered 200 were lost"
    assert ledger.stored_before <= set(stored)
    assert set(stored) <= ledger.attempted
    assert len(ledger.acked) > ACKED_BEFORE_KILL  # appends went on after the restart
