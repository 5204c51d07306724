"""What the gateway and the inference service add to a streamed chat completion, in one table.

    .venv/bin/python bench/inference.py [--duration 5] [--warmup 1] [--rounds 2] [--streams 500]

1. A streamed completion of 50 chunks (SSE, OpenAI's protocol) from the fake OpenAI server
   (tests/fakes/openai.py), straight to it and through gateway + inference service: time to
   the first event and to the end, p50 and p99, and completions/s, at concurrency 1 and 64.
   Direct and through alternate for `--rounds` rounds; each figure is a median over rounds.
   The CPU time the gateway and the inference service spend per completion is read from /proc:
   unlike latency, it hardly depends on what else the shared machine is running.
   At concurrency 1 the whole 50-chunk burst competes for the CPUs with its own first event;
   a paced stream (0.1 s between chunks, as a model streams tokens) shows the time to the first
   event alone.
2. `--streams` (500) concurrent streams through the gateway, all open at once (0.1 s between
   chunks, so that they overlap), counting errors.
3. The HTTP client on the inference service's hot path: the same 50-chunk stream read from the
   fake by a pooled httpx.AsyncClient and by a pooled aiohttp.ClientSession, at concurrency 64,
   in this process: the choice of aiohttp, measured.

The load generator is a small HTTP/1.1 client on raw asyncio sockets, one kept-alive connection
per worker, so that it costs the shared CPUs as little as possible. Loopback only; every process
started here is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from _common import (
    HOST,
    PYTHON,
    Processes,
    bench_env,
    free_port,
    lifted_limits,
    load_average,
    median,
    progress,
    stop_on_sigterm,
)

CHUNKS = 50
CONCURRENCY = (1, 64)
TARGET_ADDED_TTFB_MS = 1.0
TARGET_KEPT_PCT = 50.0
REF_ADDED = ("Open WebUI 0.12.4: +5 ms on /openai/chat/completions, +15.5 ms on "
             "/api/chat/completions")
REF_KEPT = "Open WebUI 0.12.4 keeps 22 to 31% at c=16"
MODEL, SLOW_MODEL = "bench-model", "bench-model-slow"


@dataclass
class Target:
    label: str
    port: int
    path: str
    token: str | None
    pids: dict[str, int] = field(default_factory=dict)  # processes on its path

    def request(self, model: str, chunks: int) -> bytes:
        body = json.dumps({"model": model, "stream": True, "max_tokens": chunks,
                           "messages": [{"role": "user", "content": "hello"}]}).encode()
        auth = f"Authorization: Bearer {self.token}\r\n" if self.token else ""
        return (f"POST {self.path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n{auth}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode() + body


@dataclass
class Run:
    ttfb_ms: list[float]
    total_ms: list[float]
    completed: int
    errors: int
    seconds: float
    cpu_us: dict[str, float] = field(default_factory=dict)  # per completion, by process

    @property
    def rps(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


# the load generator: HTTP/1.1 on raw asyncio sockets


class StreamError(Exception):
    pass


async def _read_body(reader: asyncio.StreamReader, head: bytes,
                     start: float) -> tuple[float, bytes]:
    """The time to the first event (ms) and the whole body; chunked or with a length."""
    lowered = head.lower()
    if b"content-length:" in lowered:
        length = int(lowered.split(b"content-length:")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        return (time.perf_counter() - start) * 1000, body
    body = b""
    first = None
    while not body.endswith(b"0\r\n\r\n"):
        chunk = await reader.read(65536)
        if not chunk:
            raise StreamError("the server closed the connection mid-stream")
        body += chunk
        if first is None and b"data:" in body:
            first = (time.perf_counter() - start) * 1000
    return first if first is not None else float("nan"), body


async def one_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     request: bytes) -> tuple[float, float]:
    start = time.perf_counter()
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    ttfb, body = await _read_body(reader, head, start)
    total = (time.perf_counter() - start) * 1000
    if not head.startswith(b"HTTP/1.1 200") or b"data: [DONE]" not in body or b"error" in body:
        raise StreamError(f"bad stream: {head[:40]!r} ... {body[-200:]!r}")
    return ttfb, total


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(HOST, port, limit=1 << 20)


async def load(target: Target, connections: int, seconds: float, warmup: float,
               watched: dict[str, int]) -> Run:
    """`connections` workers, each streaming one completion after another; the CPU time of
    the `watched` processes (name: pid) is counted over the measured window."""
    request = target.request(MODEL, CHUNKS)
    run = Run([], [], 0, 0, seconds)
    measure_from = time.perf_counter() + warmup
    stop_at = measure_from + seconds

    async def worker() -> None:
        reader, writer = await _connect(target.port)
        try:
            while time.perf_counter() < stop_at:
                try:
                    ttfb, total = await one_stream(reader, writer, request)
                except (StreamError, OSError, asyncio.IncompleteReadError):
                    run.errors += 1
                    writer.close()
                    reader, writer = await _connect(target.port)
                    continue
                if time.perf_counter() >= measure_from:
                    run.ttfb_ms.append(ttfb)
                    run.total_ms.append(total)
                    run.completed += 1
        finally:
            writer.close()

    async def watch_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        before = {name: cpu_seconds(pid) for name, pid in watched.items()}
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        run.cpu_us.update({name: (cpu_seconds(pid) - before[name]) * 1e6
                           for name, pid in watched.items()})

    await asyncio.gather(watch_cpu(), *(worker() for _ in range(connections)))
    for name in run.cpu_us:
        run.cpu_us[name] /= max(run.completed, 1)
    return run


async def paced_ttfb(target: Target, count: int) -> list[float]:
    """Time to the first event of `count` paced streams, one at a time."""
    request = target.request(SLOW_MODEL, 3)
    reader, writer = await _connect(target.port)
    try:
        await one_stream(reader, writer, request)
        return [(await one_stream(reader, writer, request))[0] for _ in range(count)]
    finally:
        writer.close()


async def burst(target: Target, streams: int) -> tuple[int, int, float, float]:
    """`streams` streams opened at once: (succeeded, failed, p50 total ms, wall seconds)."""
    request = target.request(SLOW_MODEL, 20)
    totals: list[float] = []
    failed = 0

    async def one() -> None:
        nonlocal failed
        try:
            reader, writer = await asyncio.wait_for(_connect(target.port), 30)
        except (OSError, TimeoutError):
            failed += 1
            return
        try:
            totals.append((await asyncio.wait_for(one_stream(reader, writer, request), 120))[1])
        except (StreamError, OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            failed += 1
            progress(f"stream failed: {type(exc).__name__}: {str(exc)[:200]}")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(streams)))
    return len(totals), failed, median(totals) if totals else float("nan"), \
        time.perf_counter() - start


# 3. the client library on the hot path


async def client_run(fetch: Callable[[], Awaitable[None]], connections: int,
                     seconds: float) -> float:
    """Completions/s with `connections` concurrent loops of `fetch`."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await fetch()
            done += 1

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / seconds


async def compare_clients(fake_port: int, seconds: float) -> dict[str, float]:
    import aiohttp

    url = f"http://{HOST}:{fake_port}/v1/chat/completions"
    body = {"model": MODEL, "stream": True, "max_tokens": CHUNKS,
            "messages": [{"role": "user", "content": "hello"}]}
    results: dict[str, float] = {}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=200)) as client:
        async def via_httpx() -> None:
            async with client.stream("POST", url, json=body) as response:
                async for _chunk in response.aiter_raw():
                    pass

        await client_run(via_httpx, 8, 1)
        results["httpx"] = await client_run(via_httpx, 64, seconds)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
        async def via_aiohttp() -> None:
            async with session.post(url, json=body) as response:
                async for _chunk in response.content.iter_any():
                    pass

        await client_run(via_aiohttp, 8, 1)
        results["aiohttp"] = await client_run(via_aiohttp, 64, seconds)
    return results


# the stack


def start_stack(procs: Processes, tmp: Path) -> tuple[Target, Target]:
    env = bench_env(tmp / "data")
    fake_port = free_port()
    fake = procs.start("fake-openai", [
        PYTHON, "-m", "uvicorn", "tests.fakes.openai:app", "--host", HOST, "--port",
        str(fake_port), "--log-level", "warning", "--no-access-log"],
        {"FAKE_MODELS": f"{MODEL};{SLOW_MODEL}"}, fake_port)
    inference = procs.serve("inference", {
        **env, "ENABLE_OLLAMA_API": "false", "OPENAI_API_BASE_URLS": f"{fake.url}/v1",
        "OPENAI_API_KEYS": "", "INFERENCE_MAX_IN_FLIGHT": "1024"})
    fake.wait_ready("/healthz")
    inference.wait_ready()
    gateway = procs.serve("gateway", {**env, "INFERENCE_SERVICE_URL": inference.url,
                                      **lifted_limits()})
    gateway.wait_ready()
    signed = httpx.post(f"{gateway.url}/api/v1/auths/signup", timeout=30, json={
        "name": "Bench", "email": "bench@example.com", "password": "bench-password"})
    signed.raise_for_status()
    token = str(signed.json()["token"])
    models = httpx.get(f"{gateway.url}/api/v1/inference/models", timeout=30,
                       headers={"Authorization": f"Bearer {token}"}).json()
    if MODEL not in {m["id"] for m in models["data"]}:
        raise RuntimeError(f"the inference service does not list {MODEL}: {models}")
    fake_pid = {"fake": fake.popen.pid}
    return (Target("direct", fake_port, "/v1/chat/completions", None, fake_pid),
            Target("gateway", gateway.port or 0, "/api/v1/inference/chat/completions", token,
                   {**fake_pid, "gateway": gateway.popen.pid,
                    "inference": inference.popen.pid}))


Results = dict[int, tuple[list[Run], list[Run]]]


def measure_paced(direct: Target, through: Target, count: int) -> tuple[list[float], list[float]]:
    ttfb: tuple[list[float], list[float]] = ([], [])
    for half in (count // 2, count - count // 2):  # alternate, in two halves
        for slot, target in enumerate((direct, through)):
            progress(f"paced streams {target.label}: {half} of 0.3 s")
            ttfb[slot].extend(asyncio.run(paced_ttfb(target, half)))
    return ttfb


def measure(direct: Target, through: Target, args: argparse.Namespace) -> Results:
    results: Results = {}
    for connections in CONCURRENCY:
        runs: tuple[list[Run], list[Run]] = ([], [])
        for index in range(args.rounds):
            for slot, target in enumerate((direct, through)):
                progress(f"c={connections} {target.label}, round {index + 1}/{args.rounds}: "
                         f"{args.warmup:g} s warm-up + {args.duration:g} s")
                runs[slot].append(asyncio.run(load(target, connections, args.duration,
                                                   args.warmup, target.pids)))
        results[connections] = runs
    return results


# the table


def _met(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def _figure(runs: list[Run], pick: Callable[[Run], float]) -> float:
    return median([pick(r) for r in runs])


def latency_rows(table: Table, results: Results) -> None:
    for connections, (direct, through) in results.items():
        first = connections == CONCURRENCY[0]
        for name, values in (("first event", lambda r: r.ttfb_ms),
                             ("whole stream", lambda r: r.total_ms)):
            for pct in (50, 99):
                d = _figure(direct, lambda r, v=values, p=pct: percentile(v(r), p))
                t = _figure(through, lambda r, v=values, p=pct: percentile(v(r), p))
                gated = first and name == "first event" and pct == 50
                table.add_row(f"c={connections} {name} p{pct}", f"{d:.2f} ms", f"{t:.2f} ms",
                              f"{t - d:+.2f} ms", f"≤ +{TARGET_ADDED_TTFB_MS:g} ms" if gated
                              else "", _met(t - d <= TARGET_ADDED_TTFB_MS) if gated else "",
                              REF_ADDED if gated else "")
        d_rps, t_rps = _figure(direct, lambda r: r.rps), _figure(through, lambda r: r.rps)
        kept = 100 * t_rps / d_rps if d_rps else 0.0
        last = connections == CONCURRENCY[-1]
        errors = sum(r.errors for r in direct + through)
        table.add_row(f"c={connections} completions/s", f"{d_rps:,.0f}", f"{t_rps:,.0f}",
                      f"kept {kept:.0f}%" + (f", {errors} errors" if errors else ""),
                      f"≥ {TARGET_KEPT_PCT:g}% kept" if last else "",
                      _met(kept >= TARGET_KEPT_PCT) if last else "", REF_KEPT if last else "")
        fake = _figure(direct, lambda r: r.cpu_us.get("fake", 0.0))
        gateway = _figure(through, lambda r: r.cpu_us.get("gateway", 0.0))
        inference = _figure(through, lambda r: r.cpu_us.get("inference", 0.0))
        table.add_row(f"c={connections} CPU µs/completion", f"{fake:.0f} fake",
                      f"{gateway + inference:.0f} = {gateway:.0f} gw + {inference:.0f} inf",
                      f"{(gateway + inference) / CHUNKS:.0f} µs per chunk, both hops", "", "",
                      "", end_section=True)


def print_table(results: Results, paced: tuple[list[float], list[float]],
                burst_result: tuple[int, int, float, float],
                clients: dict[str, float], args: argparse.Namespace, load_before: float) -> None:
    table = Table(title=f"owui inference bench: {os.cpu_count()} CPUs, load {load_before:.2f} "
                        f"before start, Python {platform.python_version()}, loopback; "
                        f"streams of {CHUNKS} chunks; {args.warmup:g} s warm-up + "
                        f"{args.duration:g} s, median of {args.rounds} alternating rounds",
                  title_justify="left")
    for column in ("measure", "direct to the fake", "via gateway + inference", "added",
                   "target", "met"):
        table.add_column(column, no_wrap=True)
    table.add_column("reference", overflow="fold")
    latency_rows(table, results)
    direct_ttfb, through_ttfb = paced
    for pct in (50, 99):
        d, t = percentile(direct_ttfb, pct), percentile(through_ttfb, pct)
        gated = pct == 50
        table.add_row(f"c=1 paced stream, first event p{pct}", f"{d:.2f} ms", f"{t:.2f} ms",
                      f"{t - d:+.2f} ms", f"≤ +{TARGET_ADDED_TTFB_MS:g} ms" if gated else "",
                      _met(t - d <= TARGET_ADDED_TTFB_MS) if gated else "",
                      f"{len(through_ttfb)} streams, 0.1 s between chunks" if gated else "",
                      end_section=pct == 99)
    ok, failed, p50, wall = burst_result
    table.add_row(f"{args.streams} concurrent streams", "", f"{ok} ok, {failed} failed",
                  f"p50 {p50:.0f} ms, all in {wall:.1f} s", "no error", _met(failed == 0),
                  "20 chunks, 0.1 s apart: all open at once", end_section=True)
    if clients:
        ratio = clients["aiohttp"] / clients["httpx"] if clients["httpx"] else float("inf")
        table.add_row("hot-path client, c=64, streams/s", f"httpx {clients['httpx']:,.0f}",
                      f"aiohttp {clients['aiohttp']:,.0f}", f"aiohttp x{ratio:.1f}", "", "",
                      "why the service reads providers with aiohttp")
    Console(width=max(200, Console().width)).print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=1, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=2,
                        help="direct and gateway runs alternate this many times; medians")
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--paced", type=int, default=40,
                        help="paced streams (0.3 s each) for the time to the first event")
    parser.add_argument("--skip-clients", action="store_true",
                        help="leave out the httpx/aiohttp comparison")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    stop_on_sigterm()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="owui-bench-inference-") as tmp, \
            Processes(Path(tmp) / "logs") as procs:
        progress("starting the fake OpenAI server, the inference service and a gateway")
        direct, through = start_stack(procs, Path(tmp))
        results = measure(direct, through, args)
        paced = measure_paced(direct, through, args.paced)
        progress(f"{args.streams} concurrent streams through the gateway")
        burst_result = asyncio.run(burst(through, args.streams))
        clients: dict[str, float] = {}
        if not args.skip_clients:
            progress("httpx vs aiohttp reading the same stream, c=64")
            clients = asyncio.run(compare_clients(direct.port, args.duration))
    print_table(results, paced, burst_result, clients, args, load_before)


if __name__ == "__main__":
    main()
