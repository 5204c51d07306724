"""Open WebUI's web app on owui: what socket.io costs.

    .venv/bin/python bench/webapp.py [--turns 200] [--sockets 200]

1. Time to the first token: `POST /api/chat/completions` with `session_id` (the web app's turn,
   answered at once, its tokens heard on a socket.io socket through the gateway) from the
   request to the first `response:completion` delta on the socket, against the same endpoint
   without `session_id` (the SSE stream scripts read) from the request to its first content
   chunk. Same chat, same model (the fake OpenAI provider, tests/fakes/openai.py), each turn a
   new root, no title/tags/follow-up tasks; the two alternate (paired), after a warm-up.
   Target: the socket path at most 2 ms more at p50.
2. Memory: the chat service's PSS (and the gateway's) before and after 200 open sockets
   (through the gateway, each authenticated and in its user's room). Target: +20 MB at most.

Every service is a real process on loopback (`owui serve`); everything started is stopped.
The machine may be shared: the load average before the start is shown. The functions
(`first_delta_vs_sse`, `socket_memory`) are meant to be called by other parts of this file too.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import socketio

from _common import (
    PYTHON,
    Processes,
    bench_env,
    free_port,
    lifted_limits,
    load_average,
    progress,
    pss_bytes,
    stop_on_sigterm,
)
from agent import percentiles

MODEL = "gpt-fake"
QUESTION = "Where does the router keep the buffer of the cluster?"
SERVICES = ("inference", "agent", "retrieval", "chat", "gateway")
MB = 1024 * 1024


@dataclass
class Stack:
    gateway: str
    token: str
    pids: dict[str, int]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def running_stack(tmp: Path) -> Iterator[Stack]:
    """The five services and the fake provider, an account signed up; all stopped after."""
    with Processes(tmp / "logs") as procs:
        port = free_port()
        fake = procs.start("openai-fake", [PYTHON, "-m", "uvicorn", "tests.fakes.openai:app",
                                           "--port", str(port), "--log-level", "warning"],
                           {"FAKE_MODELS": f"{MODEL};text-embedding-fake"}, port)
        fake.wait_ready("/healthz")
        ports = {name: free_port() for name in SERVICES}
        env = {**bench_env(tmp / "data"), "OWUI_LOG_FORMAT": "text",
               "OWUI_ACCESS_LOG": "false", "OWUI_LOG_LEVEL": "WARNING",
               "ENABLE_OLLAMA_API": "false", "OPENAI_API_BASE_URLS": f"{fake.url}/v1",
               "EMBEDDING_ENGINE": "openai", "EMBEDDING_MODEL": "text-embedding-fake",
               **lifted_limits(),
               **{f"{n.upper()}_SERVICE_URL": f"http://127.0.0.1:{p}"
                  for n, p in ports.items() if n != "gateway"}}
        started = [procs.serve(name, env, port) for name, port in ports.items()]
        for proc in started:
            proc.wait_ready(timeout=120)
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        account = httpx.post(f"{gateway}/api/v1/auths/signup", timeout=30, json={
            "name": "Bench", "email": "bench@bench.test", "password": "bench-password"}).json()
        yield Stack(gateway, account["token"], {p.name: p.popen.pid for p in started})


class Listener:
    """A socket.io socket as the web app opens it, timing the first delta of each answer."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.ended: dict[str, asyncio.Event] = {}
        self.client.on("events", self._heard)

    async def _heard(self, payload: dict[str, Any]) -> None:
        arrived = time.perf_counter()
        data = payload["data"]
        message_id = payload.get("message_id")
        if data["type"] == "response:completion" and data["data"].get("delta"):
            found = self.waiting.get(message_id)
            if found is not None and not found.done():
                found.set_result(arrived)
        elif data["type"] == "chat:active" and data["data"].get("active") is False:
            self.ended.setdefault(message_id, asyncio.Event()).set()

    async def open(self, stack: Stack) -> None:
        await self.client.connect(stack.gateway, headers=stack.headers,
                                  auth={"token": stack.token}, transports=["websocket"],
                                  socketio_path="ws/socket.io", wait_timeout=10)

    def expect(self, message_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[message_id] = future
        self.ended[message_id] = asyncio.Event()
        return future


async def socket_turn(http: httpx.AsyncClient, listener: Listener, chat_id: str) -> float:
    """ms from the web app's POST to the first delta heard on the socket (turn read to its
    end before the next)."""
    answer_id = str(uuid.uuid4())
    body = {"stream": True, "model": MODEL, "params": {}, "features": {},
            "session_id": listener.client.get_sid(), "chat_id": chat_id, "id": answer_id,
            "parent_id": None,
            "user_message": {"id": str(uuid.uuid4()), "parentId": None, "role": "user",
                             "content": QUESTION, "models": [MODEL]},
            "background_tasks": {}}
    first = listener.expect(answer_id)
    started = time.perf_counter()
    response = await http.post("/api/chat/completions", json=body)
    if response.status_code != 200:
        raise SystemExit(f"the web app's turn answered {response.status_code}: {response.text}")
    arrived = await asyncio.wait_for(first, 60)
    await asyncio.wait_for(listener.ended[answer_id].wait(), 60)
    del listener.waiting[answer_id], listener.ended[answer_id]
    return (arrived - started) * 1000


async def sse_turn(http: httpx.AsyncClient, chat_id: str) -> float:
    """ms from the same endpoint's POST without session_id to its first content chunk."""
    body = {"model": MODEL, "stream": True, "chat_id": chat_id, "parent_id": None,
            "messages": [{"role": "user", "content": QUESTION}]}
    started = time.perf_counter()
    seen = None
    async with http.stream("POST", "/api/chat/completions", json=body) as response:
        if response.status_code != 200:
            raise SystemExit(f"the SSE turn answered {response.status_code}")
        async for line in response.aiter_lines():
            if seen is None and '"content":"word' in line:
                seen = (time.perf_counter() - started) * 1000
    if seen is None:
        raise SystemExit("the SSE turn streamed no token")
    return seen


async def first_delta_vs_sse(stack: Stack, turns: int, warmup: int = 20) -> dict[str, Any]:
    """p50/p99 of both paths and the paired median difference (socket - SSE), in ms."""
    listener = Listener()
    await listener.open(stack)
    try:
        async with httpx.AsyncClient(base_url=stack.gateway, headers=stack.headers,
                                     timeout=120) as http:
            created = await http.post("/api/v1/chats/new", json={"chat": {"title": "bench"}})
            chat_id = created.json()["id"]
            for _ in range(warmup):
                await socket_turn(http, listener, chat_id)
                await sse_turn(http, chat_id)
            sockets, sse = [], []
            for _ in range(turns):
                sockets.append(await socket_turn(http, listener, chat_id))
                sse.append(await sse_turn(http, chat_id))
    finally:
        await listener.client.disconnect()
    return {"socket": percentiles(sockets), "sse": percentiles(sse),
            "paired": statistics.median(s - e for s, e in zip(sockets, sse, strict=True))}


async def socket_memory(stack: Stack, count: int) -> dict[str, tuple[int, int]]:
    """PSS (bytes) of the chat service and the gateway before and with `count` open sockets."""
    names = ("chat", "gateway")

    async def settled() -> dict[str, int]:
        await asyncio.sleep(2.0)
        return {name: pss_bytes(stack.pids[name]) for name in names}

    before = await settled()
    clients: list[socketio.AsyncClient] = []
    try:
        for _ in range(count):
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(stack.gateway, headers=stack.headers,
                                 auth={"token": stack.token}, transports=["websocket"],
                                 socketio_path="ws/socket.io", wait_timeout=10)
            clients.append(client)
        during = await settled()
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    return {name: (before[name], during[name]) for name in names}


def report_latency(result: dict[str, Any], turns: int) -> None:
    (socket_p50, socket_p99), (sse_p50, sse_p99) = result["socket"], result["sse"]
    print(f"\nTime to the first token ({turns} turns each, alternating, through the gateway)")
    print(f"  web app: POST -> first socket.io delta   p50 {socket_p50:7.2f} ms   "
          f"p99 {socket_p99:7.2f} ms")
    print(f"  SSE: POST -> first content chunk          p50 {sse_p50:7.2f} ms   "
          f"p99 {sse_p99:7.2f} ms")
    print(f"  added (socket - SSE)                      p50 {socket_p50 - sse_p50:7.2f} ms   "
          f"paired p50 {result['paired']:.2f} ms   target <= 2 ms")
    print(f"  ratio socket / SSE                        p50 {socket_p50 / sse_p50:7.2f} x    "
          f"p99 {socket_p99 / sse_p99:7.2f} x")


def report_memory(memory: dict[str, tuple[int, int]], count: int) -> None:
    print(f"\nMemory (PSS) with {count} open sockets (through the gateway)")
    for name, (before, during) in memory.items():
        target = "   target <= +20 MB" if name == "chat" else ""
        print(f"  {name:8} {before / MB:7.1f} MB -> {during / MB:7.1f} MB   "
              f"+{(during - before) / MB:.1f} MB   ({(during - before) / count / 1024:.1f} KB "
              f"a socket; ratio {during / before:.3f}){target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--sockets", type=int, default=200)
    args = parser.parse_args()
    stop_on_sigterm()
    print(f"load average before start: {load_average():.2f}")
    with tempfile.TemporaryDirectory(prefix="owui-bench-webapp-") as tmp, \
            running_stack(Path(tmp)) as stack:
        progress(f"{args.turns} web-app turns and {args.turns} SSE turns")
        latency = asyncio.run(first_delta_vs_sse(stack, args.turns))
        progress(f"{args.sockets} sockets")
        memory = asyncio.run(socket_memory(stack, args.sockets))
    report_latency(latency, args.turns)
    report_memory(memory, args.sockets)


if __name__ == "__main__":
    main()
