"""How fast the chat service is with a lot of history, on SQLite and on PostgreSQL.

    .venv/bin/python bench/chat.py [--chats 10000] [--duration 4] [--only sqlite|postgresql]

Seeds one user with 10,000 chats of 20 messages (plus a 500-message chat) and four other users
with 1,000 chats each (noise), through the service's own bulk import (`POST /api/v1/chats/import`).
Then, straight to the chat service and through the gateway, with wrk on one connection:
p50 and p99 of the first page of the chat list, one full chat, the active branch of the
500-message chat, a search (a word in about 1% of the user's messages), and a message append.
Also chats created per second (`POST /api/v1/chats/new`, 20 messages each, 8 connections) and
the chat service's resident memory after the run. On PostgreSQL the planner's statistics are
refreshed (ANALYZE) after seeding, as autovacuum does within a minute or so of a bulk load.

Needs wrk (`apt-get install wrk`) and, for the PostgreSQL half, the server at 127.0.0.1:5432
(`--postgres` to use another); a database is made for the run and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from _common import (
    _WRK_LUA,
    _WRK_MARK,
    Proc,
    Processes,
    WrkResult,
    _wrk_once,
    bench_env,
    lifted_limits,
    load_average,
    mint_token,
    progress,
    require_wrk,
    rss_bytes,
    run_wrk,
    stop_on_sigterm,
)

MB = 1024 * 1024
SEARCH_WORD = "zeppelin"
IMPORT_BATCH = 250
NOISE_USERS = 4
NOISE_CHATS = 1_000
LONG_CHAT = 500
# Through the gateway on SQLite; Open WebUI 0.12.4 on this kind of machine with only 2,000
# chats: list 4.7 ms, one chat 7.4 ms, search 343 ms, 30 chats/s, 1 GB resident.
TARGETS_MS = {"list": 4.0, "chat": 5.0, "branch": 15.0, "search": 20.0, "append": 4.0}
TARGET_CREATE = 300.0
TARGET_RSS_MB = 150.0
OPERATIONS = ("list", "chat", "branch", "search", "append")
LABELS = {"list": "chat list, page 1", "chat": "one chat (20 msgs)",
          "branch": "active branch, 500 msgs", "search": f"search {SEARCH_WORD!r}",
          "append": "append a message"}


# Data


class Words:
    """Deterministic text: pseudo-words from syllables, so search has real work to do."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        syllables = [a + b for a in "bcdfglmnprstvz" for b in "aeiou"]
        self.vocabulary = list(dict.fromkeys(
            "".join(self.random.choice(syllables) for _ in range(self.random.randint(1, 4)))
            for _ in range(6_000)))

    def sentence(self, low: int, high: int, rare: float = 0.0) -> str:
        words = self.random.choices(self.vocabulary, k=self.random.randint(low, high))
        if rare and self.random.random() < rare:
            words[self.random.randrange(len(words))] = SEARCH_WORD
        return " ".join(words)


def chat_object(words: Words, title: str, count: int, rare: float, start: int
                ) -> dict[str, Any]:
    """An Open WebUI chat: a chain of `count` messages, user and assistant in turn."""
    messages: dict[str, dict[str, Any]] = {}
    parent = None
    for index in range(count):
        message_id = str(uuid.uuid4())
        user = index % 2 == 0
        message: dict[str, Any] = {
            "id": message_id, "parentId": parent, "childrenIds": [],
            "role": "user" if user else "assistant",
            "content": words.sentence(8, 30, rare) if user else words.sentence(30, 90, rare),
            "timestamp": start + index}
        if user:
            message["models"] = ["llama3:8b"]
        else:
            message.update(model="llama3:8b", done=True, info={"eval_count": 200})
        if parent:
            messages[parent]["childrenIds"].append(message_id)
        messages[message_id] = message
        parent = message_id
    return {"title": title, "models": ["llama3:8b"], "params": {},
            "history": {"messages": messages, "currentId": parent}, "messages": []}


def import_forms(words: Words, count: int, rare: float) -> list[dict[str, Any]]:
    now = int(time.time())
    forms = []
    for index in range(count):
        created = now - 365 * 86_400 + index * (365 * 86_400 // max(1, count))
        forms.append({"chat": chat_object(words, words.sentence(2, 6), 20, rare, created),
                      "created_at": created, "updated_at": created + 60, "meta": {}})
    return forms


@dataclass
class Seeded:
    token: str
    chat_id: str
    long_id: str
    append_id: str
    seconds: float
    chats: int


async def _import(client: httpx.AsyncClient, token: str, forms: list[dict[str, Any]]) -> None:
    for start in range(0, len(forms), IMPORT_BATCH):
        response = await client.post("/api/v1/chats/import",
                                     json={"chats": forms[start:start + IMPORT_BATCH]},
                                     headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()


async def seed(base: str, secret: str, chats: int) -> Seeded:
    words = Words()
    main = mint_token(secret, "bench-user")
    noise = [mint_token(secret, f"noise-{i}") for i in range(NOISE_USERS)]
    progress(f"generating {chats:,} chats of 20 messages, and {NOISE_USERS} x {NOISE_CHATS:,} "
             "for other users")
    mine = import_forms(words, chats, rare=0.01)
    others = [import_forms(words, NOISE_CHATS, rare=0.01) for _ in noise]
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        await _import(client, main, mine)
        for token, forms in zip(noise, others, strict=True):
            await _import(client, token, forms)
        seconds = time.perf_counter() - started
        headers = {"Authorization": f"Bearer {main}"}
        long = chat_object(words, "A long conversation", LONG_CHAT, 0.0, int(time.time()))
        made = await client.post("/api/v1/chats/new", json={"chat": long}, headers=headers)
        made.raise_for_status()
        page = (await client.get("/api/v1/chats/", params={"page": 2}, headers=headers)).json()
    return Seeded(main, page[0]["id"], made.json()["id"], page[1]["id"], seconds,
                  chats + NOISE_USERS * NOISE_CHATS)


# Measuring


def wrk_post(url: str, token: str, body: bytes, *, connections: int, duration: int
             ) -> WrkResult:
    """wrk with a JSON body (the shared helper sends none)."""
    with tempfile.TemporaryDirectory(prefix="owui-wrk-") as directory:
        body_path = Path(directory) / "body.json"
        body_path.write_bytes(body)
        script = Path(directory) / "post.lua"
        script.write_text(
            _WRK_LUA % {"method": "POST", "token": token, "mark": _WRK_MARK}
            + 'wrk.headers["Content-Type"] = "application/json"\n'
            + f'local f = io.open("{body_path}", "rb")\nwrk.body = f:read("*a")\nf:close()\n')
        threads = max(1, min(2, connections // 4))
        return _wrk_once(script, url, threads, connections, duration)


def _checked(result: WrkResult, what: str) -> WrkResult:
    if result.bad_status or result.socket_errors or not result.requests:
        raise RuntimeError(f"{what}: {result.bad_status} bad answers, {result.socket_errors} "
                           f"socket errors in {result.requests} requests")
    return result


def measure(base: str, seeded: Seeded, duration: int) -> dict[str, WrkResult]:
    token = seeded.token
    gets = {"list": "/api/v1/chats/?page=1",
            "chat": f"/api/v1/chats/{seeded.chat_id}",
            "branch": f"/api/v1/chats/{seeded.long_id}/messages?path=current",
            "search": f"/api/v1/chats/search?text={SEARCH_WORD}"}
    results = {}
    for name, path in gets.items():
        progress(f"{LABELS[name]}: {base}{path}")
        results[name] = _checked(run_wrk(base + path, token, connections=1, duration=duration,
                                         warmup=1), name)
    body = json.dumps({"role": "user", "content": "one more question, please"}).encode()
    progress(f"{LABELS['append']}: {base}/api/v1/chats/{seeded.append_id}/messages")
    results["append"] = _checked(wrk_post(
        f"{base}/api/v1/chats/{seeded.append_id}/messages", token, body, connections=1,
        duration=duration), "append")
    return results


def create_rate(base: str, token: str, duration: int) -> float:
    body = json.dumps({"chat": chat_object(Words(3), "Created", 20, 0.0, int(time.time()))})
    progress(f"creating chats with 8 connections: {base}/api/v1/chats/new")
    result = wrk_post(f"{base}/api/v1/chats/new", token, body.encode(), connections=8,
                      duration=duration)
    return _checked(result, "create").rps


# One database


@dataclass
class Run:
    database: str
    seeded: Seeded
    results: dict[str, dict[str, WrkResult]] = field(default_factory=dict)
    create: dict[str, float] = field(default_factory=dict)
    rss_seeded_mb: float = 0.0
    rss_after_mb: float = 0.0


def run_one(procs: Processes, database: str, env: dict[str, str], args: argparse.Namespace,
            analyze: str | None = None) -> Run:
    """`analyze`: a PostgreSQL DSN to refresh the planner's statistics after seeding, as
    autovacuum does within a minute or so of a bulk load."""
    chat = procs.serve("chat", env)
    chat.wait_ready(timeout=120)
    gateway = procs.serve("gateway", {
        "JWT_SECRET_KEY": env["JWT_SECRET_KEY"], "OWUI_DATA_DIR": env["OWUI_DATA_DIR"] + "-gw",
        "CHAT_SERVICE_URL": chat.url, **lifted_limits(),
        "OWUI_ACCESS_LOG": env.get("OWUI_ACCESS_LOG", "true")})
    gateway.wait_ready(timeout=120)
    progress(f"{database}: seeding")
    seeded = asyncio.run(seed(chat.url, env["JWT_SECRET_KEY"], args.chats))
    progress(f"{database}: {seeded.chats:,} chats imported in {seeded.seconds:.1f} s")
    if analyze is not None:
        asyncio.run(_admin(analyze, "ANALYZE"))
    run = Run(database, seeded, rss_seeded_mb=rss_bytes(_pid(chat)) / MB)
    for label, proc in (("gateway", gateway), ("direct", chat)):
        run.results[label] = measure(proc.url, seeded, args.duration)
    for label, proc in (("gateway", gateway), ("direct", chat)):
        run.create[label] = create_rate(proc.url, seeded.token, args.duration)
    run.rss_after_mb = rss_bytes(_pid(chat)) / MB
    gateway.stop()
    chat.stop()
    return run


def _pid(proc: Proc) -> int:
    return proc.popen.pid


async def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def postgres_database(server: str) -> tuple[str, str]:
    name = f"owui_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f"{server}/postgres", f'CREATE DATABASE "{name}"'))
    return name, f"{server.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"


# Output


def _cell(result: WrkResult, target: float | None) -> str:
    text = f"{result.p50_ms:.2f} / {result.p99_ms:.2f}"
    if target is None:
        return text
    return f"[{'green' if result.p50_ms <= target else 'red'}]{text}[/]"


def report(console: Console, runs: list[Run], load_before: float) -> None:
    table = Table(title="chat service: p50 / p99 in ms (wrk, one connection)")
    table.add_column("operation")
    for run in runs:
        for label in ("gateway", "direct"):
            table.add_column(f"{run.database}\n{label}", justify="right")
    table.add_column("target p50\n(gateway, SQLite)", justify="right")
    for name in OPERATIONS:
        cells = []
        for run in runs:
            for label in ("gateway", "direct"):
                target = TARGETS_MS[name] if run.database == "sqlite" and label == "gateway" \
                    else None
                cells.append(_cell(run.results[label][name], target))
        table.add_row(LABELS[name], *cells, f"<= {TARGETS_MS[name]:g}")
    cells = []
    for run in runs:
        for label in ("gateway", "direct"):
            rate = run.create[label]
            good = rate >= TARGET_CREATE or run.database != "sqlite" or label != "gateway"
            cells.append(f"[{'green' if good else 'red'}]{rate:,.0f}[/]")
    table.add_row("chats created / s (8 conn.)", *cells, f">= {TARGET_CREATE:g}")
    console.print(table)
    for run in runs:
        rss_ok = run.rss_after_mb < TARGET_RSS_MB
        console.print(
            f"{run.database}: seeded {run.seeded.chats:,} chats x 20 messages by bulk import in "
            f"{run.seeded.seconds:.1f} s ({run.seeded.chats / run.seeded.seconds:,.0f} chats/s);"
            f" chat service resident {run.rss_seeded_mb:.0f} MB after seeding, "
            f"[{'green' if rss_ok else 'red'}]{run.rss_after_mb:.0f} MB after the run[/] "
            f"(target < {TARGET_RSS_MB:g} MB)")
    console.print(f"Open WebUI 0.12.4, 2,000 chats: list 4.7 ms, one chat 7.4 ms, search 343 ms, "
                  f"30 chats/s, 1 GB resident. Load average before: {load_before:.2f}; after: "
                  f"{load_average():.2f} ({os.cpu_count()} CPUs).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    require_wrk()
    stop_on_sigterm()
    console = Console(width=120)
    load_before = load_average()
    runs = []
    with (tempfile.TemporaryDirectory(prefix="owui-bench-chat-") as tmp,
          Processes(Path(tmp) / "logs") as procs):
        if args.only in (None, "sqlite"):
            env = bench_env(Path(tmp) / "sqlite")
            runs.append(run_one(procs, "sqlite", env, args))
        if args.only in (None, "postgresql"):
            name, url = postgres_database(args.postgres)
            try:
                env = {**bench_env(Path(tmp) / "postgresql"), "DATABASE_URL": url}
                runs.append(run_one(procs, "postgresql", env, args,
                                    analyze=f"{args.postgres}/{name}"))
            finally:
                procs.stop_all()
                asyncio.run(_admin(f"{args.postgres}/postgres",
                                   f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    report(console, runs, load_before)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
