"""bench/load.py's sign-in burst (`--signin-burst N`): do other requests starve while N users
sign in at once?

A few readers (already signed in) keep asking for their chat list, one chat and their account
(the gateway's own route), each a request at a time with ~`PAUSE` s between. After a quiet
stretch, N accounts sign in at the same instant (each sign-in checks an Argon2id hash: ~0.1-0.2 s
of a core); the readers go on until the last sign-in has answered. Reported: each reader route's
p50 and p99 in the quiet stretch and during the burst, and the sign-ins' own p50 and slowest.
Target: every other route's p99 under the burst below `TARGET_MS`.
"""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp
from rich.console import Console
from rich.table import Table

from _common import progress

TARGET_MS = 100.0
READERS = 6
PAUSE = 0.05
QUIET = 5.0
ROUTES = ("list chats", "open chat", "own account (gateway route)")


class Burst:
    def __init__(self, http: aiohttp.ClientSession, gateway: str, password: str) -> None:
        self.http = http
        self.gateway = gateway
        self.password = password
        self.samples: list[tuple[str, float, float]] = []  # route, began, seconds
        self.errors: list[str] = []

    async def call(self, method: str, path: str, headers: dict[str, str] | None = None,
                   **kwargs: object) -> dict | None:
        async with self.http.request(method, self.gateway + path, headers=headers,
                                     **kwargs) as response:
            body = await response.read()
            if response.status != 200:
                self.errors.append(f"{method} {path}: {response.status} {body[:100]!r}")
                return None
            return await response.json(content_type=None)

    async def account(self, email: str) -> dict | None:
        return await self.call("POST", "/api/v1/auths/signup", json={
            "name": "Burst", "email": email, "password": self.password})

    async def reader(self, token: str, until: asyncio.Event, rng: random.Random) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        chat = await self.call("POST", "/api/v1/chats/new", headers,
                               json={"chat": {"title": "burst"}})
        paths = {"list chats": "/api/v1/chats/?page=1",
                 "open chat": f"/api/v1/chats/{chat['id'] if chat else 'none'}",
                 "own account (gateway route)": "/api/v1/auths/"}
        while not until.is_set():
            route = rng.choice(ROUTES)
            began = time.monotonic()
            if await self.call("GET", paths[route], headers) is not None:
                self.samples.append((route, began, time.monotonic() - began))
            await asyncio.sleep(PAUSE * rng.uniform(0.5, 1.5))

    async def sign_in(self, email: str) -> None:
        began = time.monotonic()
        if await self.call("POST", "/api/v1/auths/signin",
                           json={"email": email, "password": self.password}) is not None:
            self.samples.append(("sign in (the burst)", began, time.monotonic() - began))


async def run_burst(gateway: str, password: str, count: int) -> bool:
    """The scenario against a running gateway; True when the target was met."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=600)) as http:
        burst = Burst(http, gateway, password)
        stamp = f"{time.time_ns():x}"
        emails = [f"burst-{stamp}-{i}@load.test" for i in range(count + READERS)]
        progress(f"making {len(emails)} accounts")
        tokens = []
        for email in emails:  # one at a time: the accounts are not what is measured
            made = await burst.account(email)
            tokens.append(made["token"] if made else "")
        stop = asyncio.Event()
        readers = [asyncio.create_task(burst.reader(tokens[count + i], stop, random.Random(i)))
                   for i in range(READERS)]
        progress(f"{READERS} readers, quiet for {QUIET:g} s")
        await asyncio.sleep(QUIET)
        progress(f"{count} sign-ins at once")
        began = time.monotonic()
        await asyncio.gather(*(burst.sign_in(email) for email in emails[:count]))
        ended = time.monotonic()
        stop.set()
        await asyncio.gather(*readers)
    return report(burst, began, ended, count)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(burst: Burst, began: float, ended: float, count: int) -> bool:
    console = Console(width=120)
    table = Table(title=f"{count} sign-ins at once: the burst lasted {ended - began:.2f} s",
                  title_justify="left")
    for column in ("route", "quiet n", "quiet p50", "quiet p99", "burst n", "burst p50",
                   "burst p99 ms"):
        table.add_column(column, justify="left" if column == "route" else "right")
    met = True
    for route in (*ROUTES, "sign in (the burst)"):
        quiet = [s for r, b, s in burst.samples if r == route and b < began]
        during = [s for r, b, s in burst.samples if r == route and began <= b <= ended]
        p99 = 1000 * _percentile(during, 0.99)
        if route in ROUTES:
            met = met and p99 < TARGET_MS
        table.add_row(route, str(len(quiet)), f"{1000 * _percentile(quiet, 0.5):.1f}",
                      f"{1000 * _percentile(quiet, 0.99):.1f}", str(len(during)),
                      f"{1000 * _percentile(during, 0.5):.1f}", f"{p99:.1f}")
    console.print(table)
    console.print(f"other routes' p99 during the burst < {TARGET_MS:g} ms: "
                  f"{'met' if met else 'NOT met'}; errors: {len(burst.errors) or 'none'}")
    for error in burst.errors[:10]:
        console.print(f"  {error}")
    return met and not burst.errors
