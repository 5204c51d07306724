"""Many users at once on a whole owui: throughput, latency per route, errors, memory.

    .venv/bin/python bench/load.py [--users 200] [--seconds 180] [--warmup 60] [--think 1.0]

Starts its own `owui up` (data dir in a temporary directory, loopback only) with the fake
OpenAI provider (tests/fakes/openai.py) as its model provider and makes `--users` accounts
(sign-ups, a few at a time: each hashes a password, ~0.1 s of a core). Then `--users`
simulated users (asyncio + aiohttp) run for `--seconds`. They arrive spread over the warm-up;
each signs in, creates a chat, then, until the end, does one of these at a time with a pause of
about `--think` seconds between them: list its chats, open one, run a chat turn
(`POST /api/v1/chats/{id}/completions`, the answer streamed from the fake provider through the
agent and read to its end), start a new chat, upload a small text file (processed: extracted,
embedded by the bundled all-MiniLM-L6-v2, indexed) or search its files.

Reported: requests per second, p50 and p99 per route (after the warm-up), every error (a status
other than the expected one, a broken stream, a turn that did not end `done`; target none), and
each service's resident memory (RSS, and PSS, which splits the pages that the fork server's
children share) at the start, after the warm-up and at the end (target: at most 20% growth from
after the warm-up to the end). Exits 1 when there were errors, or a service restarted.

Against a deployment already running (the Compose one in containers, tests/containers/bench.py):
    .venv/bin/python bench/load.py --gateway URL [--gateway URL2] --podman-project P
users are spread over the gateways, and memory is each container's (its processes' RSS/PSS,
read from the host). The deployment must let new accounts chat (DEFAULT_USER_ROLE=user), sign
in often (SIGNIN_RATE_LIMIT) and serve the model `gpt-fake`.

Sign-in burst (bench/load_signin.py): do other requests starve while N users sign in at once?
    .venv/bin/python bench/load.py --signin-burst 50 [--gateway URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
from rich.console import Console
from rich.table import Table

from _common import (
    HOST,
    PYTHON,
    Processes,
    bench_env,
    descendants,
    free_port,
    free_port_block,
    http_status,
    lifted_limits,
    load_average,
    mint_token,
    progress,
    pss_bytes,
    rss_bytes,
    stop_on_sigterm,
)
from load_signin import run_burst
from owui.core.retry_after import retry_delay
from retrieval import wait_model

MODEL = "gpt-fake"
PASSWORD = "load-password"
# Accounts made at once before the run (each sign-up hashes a password: a core for ~0.1 s).
SIGNUPS_AT_ONCE = 8
# A sign-in waits its turn for the gateway's password hasher (one hash per core at a time):
# when many arrive at once on a busy machine, that queue, not a fault, is what takes long.
SIGN_IN_TIMEOUT = 600.0
SERVICES = ("gateway", "inference", "agent", "retrieval", "chat")
MAX_USERS, MAX_SECONDS = 2000, 3600
RETRIES = 5
GROWTH_TARGET = 0.20
MB = 1024 * 1024
WORDS = ("harbour", "lighthouse", "ferry", "router", "buffer", "cluster", "lantern", "orchard",
         "meadow", "glacier", "compass", "signal", "tide", "beacon", "granite")
# Weights of what a user does next.
ACTIONS = {"list chats": 4, "open chat": 4, "turn": 4, "new chat": 1, "upload": 1, "search": 2}


@dataclass
class Stats:
    """Every request's route, start time, duration; and every error."""

    started: float = field(default_factory=time.monotonic)
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, route: str, began: float, seconds: float) -> None:
        self.samples.setdefault(route, []).append((began, seconds))

    def error(self, route: str, what: str) -> None:
        self.errors[f"{route}: {what}"] += 1


class RequestFailed(Exception):
    """An answer that was not the expected one; the message says what came instead."""


@dataclass
class User:
    http: aiohttp.ClientSession
    gateway: str
    stats: Stats
    rng: random.Random
    headers: dict[str, str] = field(default_factory=dict)
    email: str = ""
    chats: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    async def timed(self, route: str, call: Callable[[], Awaitable[object]]) -> object:
        began = time.monotonic()
        try:
            result = await call()
        except RequestFailed as exc:
            self.stats.error(route, str(exc))
            return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.stats.error(route, type(exc).__name__)
            return None
        self.stats.add(route, began, time.monotonic() - began)
        return result

    async def json(self, method: str, path: str, **kwargs: object) -> object:
        # A 429 or 503 is waited out as its Retry-After says (a form is sent only once).
        attempts = 1 if "data" in kwargs else RETRIES
        for attempt in range(attempts):
            async with self.http.request(method, self.gateway + path, headers=self.headers,
                                         **kwargs) as response:
                body = await response.read()
                delay = retry_delay(response.status, response.headers.get("Retry-After"))
            if delay is None or attempt == attempts - 1:
                break
            await asyncio.sleep(delay)
        if response.status != 200:
            raise RequestFailed(f"{response.status} {body[:120]!r}")
        return json.loads(body)

    async def sign_up(self) -> None:
        self.email = f"{uuid.uuid4().hex[:12]}@load.test"
        form = {"name": "Load", "email": self.email, "password": PASSWORD}
        await self.timed("sign up (before the run)", lambda: self.json(
            "POST", "/api/v1/auths/signup", json=form))

    async def sign_in(self) -> None:
        signed_in = await self.timed("sign in (as users arrive)", lambda: self.json(
            "POST", "/api/v1/auths/signin", json={"email": self.email, "password": PASSWORD},
            timeout=aiohttp.ClientTimeout(total=SIGN_IN_TIMEOUT)))
        if isinstance(signed_in, dict):
            self.headers = {"Authorization": f"Bearer {signed_in['token']}"}

    async def new_chat(self) -> None:
        chat = await self.timed("new chat", lambda: self.json(
            "POST", "/api/v1/chats/new", json={"chat": {"title": self.sentence(3)}}))
        if isinstance(chat, dict):
            self.chats.append(chat["id"])

    async def list_chats(self) -> None:
        await self.timed("list chats", lambda: self.json("GET", "/api/v1/chats/?page=1"))

    async def open_chat(self) -> None:
        chat_id = self.rng.choice(self.chats)
        await self.timed("open chat", lambda: self.json("GET", f"/api/v1/chats/{chat_id}"))

    async def turn(self) -> None:
        chat_id = self.rng.choice(self.chats)
        body = {"model": MODEL, "content": self.sentence(12), "stream": True}
        await self.timed("turn (streamed to the end)", lambda: self._stream(
            f"/api/v1/chats/{chat_id}/completions", body))

    async def _stream(self, path: str, body: dict[str, object]) -> None:
        began = time.monotonic()
        first, kinds = None, Counter[str]()
        async with self.http.post(self.gateway + path, json=body,
                                  headers=self.headers) as response:
            if response.status != 200:
                raise RequestFailed(f"{response.status} {(await response.read())[:120]!r}")
            async for line in response.content:
                if line.startswith(b"event: "):
                    kinds[line[7:].strip().decode()] += 1
                    if first is None and line.startswith(b"event: token"):
                        first = time.monotonic() - began
        if kinds["error"] or not kinds["done"]:
            raise RequestFailed(f"stream ended without done: {dict(kinds)}")
        if first is not None:
            self.stats.add("turn: first token", began, first)

    async def upload(self) -> None:
        form = aiohttp.FormData()
        form.add_field("file", (self.sentence(60) + "\n").encode(),
                       filename=f"notes-{self.rng.randrange(10**6)}.txt",
                       content_type="text/plain")
        file = await self.timed("upload file", lambda: self.json(
            "POST", "/api/v1/files/", data=form))
        if isinstance(file, dict):
            self.files.append(file["id"])

    async def search(self) -> None:
        if not self.files:
            return await self.upload()
        body = {"query": self.sentence(5), "file_ids": self.files[-5:], "k": 5}
        await self.timed("search files", lambda: self.json(
            "POST", "/api/v1/retrieval/search", json=body))
        return None

    def sentence(self, words: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(words))

    async def live(self, until: float, think: float) -> None:
        await self.sign_in()
        if not self.headers:
            return
        await self.new_chat()
        actions = {"list chats": self.list_chats, "open chat": self.open_chat,
                   "turn": self.turn, "new chat": self.new_chat, "upload": self.upload,
                   "search": self.search}
        names, weights = list(ACTIONS), list(ACTIONS.values())
        while time.monotonic() < until:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * think)
            name = self.rng.choices(names, weights)[0]
            if not self.chats and name in ("open chat", "turn"):
                name = "new chat"
            await actions[name]()


# The stack


def start_stack(procs: Processes, data_dir: Path, provider: str,
                embeddings: bool = True) -> dict[str, int]:
    """`owui up` on free ports; waits until all five are ready. Their ports, by name."""
    base = free_port_block(len(SERVICES))
    ports = dict(zip(("gateway", "inference", "agent", "retrieval", "chat"),
                     range(base, base + len(SERVICES)), strict=True))
    # The embedding model loads at start (not at the first upload, mid-run): the memory
    # figures then compare like with like.
    env = {**bench_env(data_dir), "OWUI_LOG_FORMAT": "text", "OWUI_ACCESS_LOG": "false",
           "OWUI_LOG_LEVEL": "WARNING", "ENABLE_OLLAMA_API": "false",
           "RAG_EMBEDDING_MODEL_PRELOAD": "true" if embeddings else "false",
           "OPENAI_API_BASE_URLS": f"{provider}/v1", **lifted_limits()}
    up = procs.start("owui-up", [PYTHON, "-m", "owui", "up", "--host", HOST, "--data-dir",
                                 str(data_dir), "--base-port", str(base)], env)
    deadline = time.monotonic() + 180
    while not all(http_status(f"http://{HOST}:{p}/readyz") == 200 for p in ports.values()):
        if up.popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"owui up did not get ready:\n{up.log_tail(40)}")
        time.sleep(0.5)
    if not embeddings:
        return ports
    token = mint_token(env["JWT_SECRET_KEY"])
    with httpx.Client(base_url=f"http://{HOST}:{ports['retrieval']}", timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        wait_model(client)
    return ports


def service_pids(up_pid: int) -> dict[str, int]:
    """The pid of each service under `owui up`, from the command lines of its descendants."""
    found: dict[str, int] = {}
    for pid in descendants(up_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if match := re.search(r"\bserve (\w+)", command):
            found[match[1]] = pid
    return found


def memory(pids: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {name: (rss_bytes(pid), pss_bytes(pid)) for name, pid in pids.items()}


def container_pids(project: str) -> dict[str, int]:
    """Each running container of a podman-compose project: its main process's pid on the host."""
    env = dict(os.environ)
    listed = subprocess.run(["podman", "ps", "--format", "json", "--filter",
                             f"label=io.podman.compose.project={project}"], env=env,
                            capture_output=True, text=True, check=True).stdout
    return {c["Names"][0].removeprefix(f"{project}_"): int(c["Pid"])
            for c in json.loads(listed or "[]")}


def container_memory(pids: dict[str, int]) -> dict[str, tuple[int, int]]:
    """RSS and PSS summed over each container's processes."""
    out: dict[str, tuple[int, int]] = {}
    for name, pid in pids.items():
        every = [pid, *descendants(pid)]
        out[name] = (sum(map(rss_bytes, every)), sum(map(pss_bytes, every)))
    return out


# The run


async def run_users(gateways: list[str], users: int, seconds: float, warmup: float,
                    think: float, at_warmup: Callable[[], None]) -> Stats:
    stats = Stats()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        people = [User(http, gateways[i % len(gateways)], stats, random.Random(i))
                  for i in range(users)]
        progress(f"making {users} accounts, {SIGNUPS_AT_ONCE} at a time")
        slots = asyncio.Semaphore(SIGNUPS_AT_ONCE)

        async def account(user: User) -> None:
            async with slots:
                await user.sign_up()

        await asyncio.gather(*(account(user) for user in people))
        progress(f"{users} users for {seconds:g} s (warm-up {warmup:g} s)")
        stats.started = time.monotonic()
        until = stats.started + seconds

        async def one(index: int) -> None:
            await asyncio.sleep(warmup * index / max(1, users))  # arrivals spread out
            await people[index].live(until, think)

        async def warmed() -> None:
            await asyncio.sleep(warmup)
            await asyncio.to_thread(at_warmup)

        await asyncio.gather(warmed(), *(one(i) for i in range(users)))
    return stats


def began_before_run(route: str) -> bool:
    """Routes shown whole, not only after the warm-up: accounts, and sign-ins (arrivals)."""
    return route.endswith(("(before the run)", "(as users arrive)"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(stats: Stats, seconds: float, warmup: float,
           mem: dict[str, dict[str, tuple[int, int]]]) -> None:
    console = Console()
    measured = seconds - warmup
    table = Table(title=f"Routes after the {warmup:g} s warm-up ({measured:g} s measured)",
                  title_justify="left")
    for column in ("route", "requests", "req/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "route" else "right")
    total = 0
    for route, samples in sorted(stats.samples.items()):
        before = began_before_run(route)
        kept = [d for began, d in samples if before or began - stats.started >= warmup]
        if not kept:
            continue
        if route != "turn: first token" and not before:
            total += len(kept)
        table.add_row(route, str(len(kept)), "" if before else f"{len(kept) / measured:.1f}",
                      f"{1000 * percentile(kept, 0.50):.1f}",
                      f"{1000 * percentile(kept, 0.99):.1f}")
    console.print(table)
    everything = sum(len(s) for r, s in stats.samples.items()
                     if r != "turn: first token" and not r.endswith("(before the run)"))
    console.print(f"requests/s after warm-up: {total / measured:.1f}   "
                  f"(all {everything} requests over {seconds:g} s: {everything / seconds:.1f}/s)")
    if stats.errors:
        console.print(f"[red]errors: {sum(stats.errors.values())}[/red]")
        for what, count in stats.errors.most_common(20):
            console.print(f"  {count:6d}  {what}")
    else:
        console.print("errors: none")
    memory_table(console, mem)


def memory_table(console: Console, mem: dict[str, dict[str, tuple[int, int]]]) -> None:
    table = Table(title="Memory per service or container, MB (RSS / PSS)",
                  title_justify="left")
    table.add_column("service")
    for moment in mem:
        table.add_column(moment, justify="right")
    table.add_column("PSS growth after warm-up", justify="right")
    names = [*(s for s in SERVICES if s in mem["end"]), *sorted(set(mem["end"]) - set(SERVICES))]
    for name in names:
        cells = [f"{mem[m][name][0] / MB:.0f} / {mem[m][name][1] / MB:.0f}"
                 if name in mem[m] else "-" for m in mem]
        warm, end = mem["after warm-up"].get(name), mem["end"].get(name)
        growth = (end[1] - warm[1]) / warm[1] if warm and end and warm[1] else 0.0
        mark = "" if growth <= GROWTH_TARGET else " (over the 20% target)"
        table.add_row(name, *cells, f"{100 * growth:+.1f}%{mark}")
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--warmup", type=float, default=60.0,
                        help="seconds over which the users arrive (sign-ins hash passwords)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds a user waits between two actions")
    parser.add_argument("--logs", type=Path, default=None,
                        help="keep the services' logs in this directory")
    parser.add_argument("--gateway", action="append", default=None,
                        help="a running owui's gateway URL instead of starting one "
                             "(repeatable: the users are spread over them)")
    parser.add_argument("--podman-project", default=None,
                        help="with --gateway: the podman-compose project whose containers' "
                             "memory is measured")
    parser.add_argument("--signin-burst", type=int, default=0, metavar="N",
                        help="instead of the users: N sign-ins at once while a few readers "
                             "measure the other routes (bench/load_signin.py)")
    args = parser.parse_args()
    if not (1 <= args.users <= MAX_USERS and 1 <= args.seconds <= MAX_SECONDS
            and 0 <= args.warmup < args.seconds and args.think >= 0):
        parser.error(f"need 1 <= --users <= {MAX_USERS}, 1 <= --seconds <= {MAX_SECONDS}, "
                     "0 <= --warmup < --seconds, --think >= 0")
    stop_on_sigterm()
    print(f"load average before start: {load_average():.2f}")
    if args.signin_burst:
        return signin_burst(args)
    if args.gateway:
        return run_against(args)
    with tempfile.TemporaryDirectory(prefix="owui-bench-load-") as tmp, \
            Processes(args.logs or Path(tmp) / "logs") as procs:
        port = free_port()
        fake = procs.start("openai-fake", [PYTHON, "-m", "uvicorn", "tests.fakes.openai:app",
                                           "--port", str(port), "--log-level", "warning"],
                           {"FAKE_MODELS": MODEL}, port)
        fake.wait_ready("/healthz")
        progress("starting owui up")
        ports = start_stack(procs, Path(tmp) / "data", fake.url)
        up_pid = next(p for p in procs.started if p.name == "owui-up").popen.pid
        pids = service_pids(up_pid)
        mem = {"start": memory(pids)}

        def at_warmup() -> None:
            mem["after warm-up"] = memory(pids)
            progress("warm-up over; measuring")

        stats = asyncio.run(run_users([f"http://{HOST}:{ports['gateway']}"], args.users,
                                      args.seconds, args.warmup, args.think, at_warmup))
        mem["end"] = memory(pids)
        restarted = service_pids(up_pid) != pids
    report(stats, args.seconds, args.warmup, mem)
    if restarted:
        print("a service restarted during the run")
    return 1 if stats.errors or restarted else 0


def signin_burst(args: argparse.Namespace) -> int:
    """The sign-in burst, against --gateway or an `owui up` of its own."""
    if args.gateway:
        return 0 if asyncio.run(run_burst(args.gateway[0], PASSWORD, args.signin_burst)) else 1
    with tempfile.TemporaryDirectory(prefix="owui-bench-burst-") as tmp, \
            Processes(args.logs or Path(tmp) / "logs") as procs:
        progress("starting owui up")
        ports = start_stack(procs, Path(tmp) / "data", "http://127.0.0.1:9", embeddings=False)
        met = asyncio.run(run_burst(f"http://{HOST}:{ports['gateway']}", PASSWORD,
                                    args.signin_burst))
    return 0 if met else 1


def run_against(args: argparse.Namespace) -> int:
    """The run against gateways already running (--gateway); memory per container."""
    pids = container_pids(args.podman_project) if args.podman_project else {}
    mem = {"start": container_memory(pids)}

    def at_warmup() -> None:
        mem["after warm-up"] = container_memory(pids)
        progress("warm-up over; measuring")

    stats = asyncio.run(run_users(args.gateway, args.users, args.seconds, args.warmup,
                                  args.think, at_warmup))
    mem["end"] = container_memory(pids)
    restarted = bool(pids) and container_pids(args.podman_project) != pids
    report(stats, args.seconds, args.warmup, mem)
    if restarted:
        print("a container restarted during the run")
    return 1 if stats.errors or restarted else 0


if __name__ == "__main__":
    sys.exit(main())
