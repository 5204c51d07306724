"""Helpers for the fault tests: `owui up` stacks, accounts, and clients that keep going while
something breaks underneath them, recording every answer."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.helpers_cli import UpStack, clean_env

# Sign-ups and sign-ins of many clients at once must not meet the rate limits.
UNLIMITED = {"RATE_LIMIT": "1000000/minute", "SIGNIN_RATE_LIMIT": "1000000/minute"}
QUIET_PROVIDERS = {"ENABLE_OLLAMA_API": "false", "ENABLE_OPENAI_API": "false"}
# The server profile's stores but LanceDB, so that no Chroma server runs beside the services.
POSTGRES_PROFILE = """\
name: faults-postgres
stores: {database: postgres, vectors: lancedb, files: local}
env: {DEFAULT_USER_ROLE: user}
"""


def postgres_profile(directory: Path) -> str:
    """A profile file for `owui up --profile`: every service on PostgreSQL (DATABASE_URL)."""
    path = directory / "postgres.yaml"
    path.write_text(POSTGRES_PROFILE)
    return str(path)


@dataclass
class Answers:
    """Every answer (or transport error) seen, by label."""

    seen: dict[str, Counter[int | str]] = field(default_factory=dict)
    bodies: dict[tuple[str, int], str] = field(default_factory=dict)

    def add(self, label: str, outcome: int | str, body: str = "") -> None:
        self.seen.setdefault(label, Counter())[outcome] += 1
        if isinstance(outcome, int) and outcome >= 400:
            self.bodies.setdefault((label, outcome), body[:300])

    def statuses(self) -> set[int | str]:
        return {outcome for counter in self.seen.values() for outcome in counter}


@pytest.fixture
def up_stack(tmp_path: Path) -> Iterator[Callable[..., UpStack]]:
    """`owui up` with extra arguments and environment; stopped, all of it, after the test."""
    started: list[UpStack] = []

    def start(*args: str, **env: str) -> UpStack:
        directory = tmp_path / f"up-{len(started)}"
        directory.mkdir()
        stack = UpStack.start(directory, *args,
                              env=clean_env(**UNLIMITED, **QUIET_PROVIDERS, **env))
        started.append(stack)
        stack.wait_ready(timeout=180)
        return stack

    yield start
    for stack in started:
        stack.stop()
        stack.kill_everything()


def account(gateway: str) -> dict[str, str]:
    """A new account's bearer header."""
    return bearer(signup(gateway)["token"])


async def keep_calling(client: httpx.AsyncClient, label: str, call: Callable[
        [httpx.AsyncClient], Awaitable[httpx.Response]], answers: Answers,
        stop: asyncio.Event, pause: float = 0.02) -> None:
    """Call over and over until `stop`, recording each status (or the transport error)."""
    while not stop.is_set():
        try:
            response = await call(client)
            answers.add(label, response.status_code, response.text)
        except httpx.TransportError as exc:
            answers.add(label, type(exc).__name__)
        await asyncio.sleep(pause)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s")
        time.sleep(0.2)
