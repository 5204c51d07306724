"""The measurement that chose the gateway proxy's HTTP client: httpx or aiohttp.

    .venv/bin/python bench/proxy_clients.py [--duration 5] [--warmup 2] [--rounds 3]

A minimal raw-ASGI pass-through (bench/_passthrough.py, uvicorn with uvloop and httptools, its
own process) stands in front of the chat service, once with a pooled httpx.AsyncClient and once
with a pooled aiohttp.ClientSession, both streaming the response through. wrk drives a small
authenticated GET (`/api/v1/chats/bench/no/such/path`: the chat service verifies the token,
matches no route, answers 404) at 1 and 32 connections, straight to the chat service and
through each pass-through. The targets take turns; each figure is a median over rounds.

Needs wrk (`apt-get install wrk`). Loopback only; every process started here is stopped.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _common import (
    HOST,
    PROBE,
    PYTHON,
    Proc,
    Processes,
    WrkResult,
    bench_env,
    check_probe,
    free_port,
    load_average,
    median_result,
    mint_token,
    progress,
    require_wrk,
    run_wrk,
    stop_on_sigterm,
)

CONCURRENCY = (1, 32)
CLIENTS = ("httpx", "aiohttp")
SPIKE = {"httpx": "+0.75 ms, kept 14% at c=32", "aiohttp": "+0.17 ms, kept ~100% at c=32"}


def start_passthrough(procs: Processes, client: str, upstream: str) -> Proc:
    port = free_port()
    argv = [PYTHON, "-m", "uvicorn", "_passthrough:app", "--app-dir", "bench",
            "--host", HOST, "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning"]
    env = {"PASSTHROUGH_CLIENT": client, "PASSTHROUGH_UPSTREAM": upstream}
    return procs.start(f"passthrough-{client}", argv, env, port)


def start_all(procs: Processes, tmp: Path) -> tuple[dict[str, Proc], str]:
    """The chat service and one pass-through per client; the targets by name, and a token."""
    env = bench_env(tmp / "data")
    chat = procs.serve("chat", env)
    chat.wait_ready()
    targets = {"direct": chat}
    for client in CLIENTS:
        targets[client] = start_passthrough(procs, client, chat.url)
    token = mint_token(env["JWT_SECRET_KEY"])
    for proc in targets.values():
        proc.wait_ready("/healthz")
        check_probe(proc.url + PROBE, token)
    return targets, token


Results = dict[tuple[str, int], WrkResult]


def measure(targets: dict[str, Proc], token: str, duration: int, warmup: int,
            rounds: int) -> Results:
    """Each target in turn, `rounds` times; medians per figure. CPU per request is watched
    for the chat service and, on a pass-through's path, for the pass-through too."""
    chat = targets["direct"].popen.pid
    runs: dict[tuple[str, int], list[WrkResult]] = {}
    for connections in CONCURRENCY:
        for index in range(rounds):
            for name, proc in targets.items():
                progress(f"wrk c={connections} {name}, round {index + 1}/{rounds}: "
                         f"{warmup} s warm-up + {duration} s")
                watch = (chat,) if name == "direct" else (chat, proc.popen.pid)
                runs.setdefault((name, connections), []).append(run_wrk(
                    proc.url + PROBE, token, connections=connections, duration=duration,
                    warmup=warmup, watch=watch))
    return {key: median_result(values) for key, values in runs.items()}


def _row(name: str, connections: int, got: WrkResult, direct: WrkResult) -> list[str]:
    cells = [name if name == "direct" else f"via {name}", str(connections),
             f"{got.p50_ms:.2f} ms", f"{got.p99_ms:.2f} ms", f"{got.rps:,.0f}"]
    if name == "direct":
        return [*cells, "", "", f"{got.cpu_us[0]:.0f} µs (chat)", ""]
    spike = SPIKE[name] if connections == CONCURRENCY[-1] else ""
    return [*cells, f"{got.p50_ms - direct.p50_ms:+.2f} ms", f"{100 * got.rps / direct.rps:.0f}%",
            f"{got.cpu_us[1]:.0f} µs (proxy)", spike]


def print_table(results: Results, args: argparse.Namespace, load: float) -> None:
    table = Table(title=f"proxy client bench: raw-ASGI pass-through in front of the chat "
                        f"service; {os.cpu_count()} CPUs, load {load:.2f} before start, Python "
                        f"{platform.python_version()}, loopback; wrk {args.warmup} s warm-up + "
                        f"{args.duration} s, median of {args.rounds} rounds",
                  title_justify="left")
    for column in ("path", "c", "p50", "p99", "req/s", "added p50", "kept", "CPU/request",
                   "earlier spike"):
        table.add_column(column, justify="left" if column in ("path", "earlier spike")
                         else "right")
    for connections in CONCURRENCY:
        direct = results["direct", connections]
        for name in ("direct", *CLIENTS):
            table.add_row(*_row(name, connections, results[name, connections], direct),
                          end_section=name == CLIENTS[-1])
    Console(width=max(150, Console().width)).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the targets take turns this many times; medians")
    args = parser.parse_args()
    require_wrk()
    stop_on_sigterm()
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="owui-bench-") as tmp, \
            Processes(Path(tmp) / "logs") as procs:
        progress("starting the chat service and the httpx and aiohttp pass-throughs")
        targets, token = start_all(procs, Path(tmp))
        results = measure(targets, token, args.duration, args.warmup, args.rounds)
    print_table(results, args, load)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        progress("interrupted; every process started here has been stopped")
        raise SystemExit(130) from None
