"""What the gateway costs, and how fast and small the five services start, in one table.

    .venv/bin/python bench/gateway.py [--duration 5] [--warmup 2] [--rounds 3] [--start-runs 3]
        [--baseline-src /tmp/base]   (a worktree of another commit: its gateway measured too)

1. A small authenticated GET, the chat list (`/api/v1/chats/`, empty: the chat service checks
   the token and the signed access header, reads the database, answers []), straight to the
   chat service and through the gateway, with wrk at 1 and 32 connections: p50, p99,
   requests/s, the CPU time per request of each process on the path, and what the gateway
   adds. Then the same for a streamed answer of 50 events (`/api/v1/agents/burst`, the fake
   upstream of tests/fakes/upstream.py standing in for the agent service). Metrics are off,
   the access log on, limits in memory (the local profile). The ways to the server take turns
   that rotate each round; each figure is a median over the rounds. With --baseline-src, a
   second gateway runs the other tree's code in front of the same services, measured in the
   same rounds: a before/after comparison on a shared machine.
2. Time to the first event of a streamed response (a fake SSE upstream, tests/fakes/upstream.py),
   direct and through the gateway.
3. Seconds from `owui up` on a fresh data dir until all five `/readyz` answer 200, and the
   services' resident memory at idle (five `owui serve` instead, labelled, if `owui up` is not
   there or fails).

With --observability, instead: what metrics and tracing cost at the gateway (issue 20). Three
gateways in front of one chat service: metrics on (the default), metrics off (OWUI_METRICS=false),
and tracing on at 10% sampling (parentbased_traceidratio 0.1, exporting to the stand-in
collector tests/fakes/otlp.py; metrics off, so the figure is tracing's alone), measured in
turns within each round at 1 connection (--rounds, default 3: use 15 or more); each gateway's
median p50 and the median of the per-round paired differences, in µs per request.

Needs wrk (`apt-get install wrk`). Loopback only; every process started here is stopped.
Figures move with whatever else the machine runs: the table shows the load average at start.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
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
    descendants,
    free_port,
    free_port_block,
    http_get,
    http_status,
    kill_if_same,
    lifted_limits,
    load_average,
    median,
    median_result,
    progress,
    pss_bytes,
    require_wrk,
    rss_bytes,
    run_wrk,
    start_time,
    stop_on_sigterm,
)
from owui.core.services import NAMES, SERVICES

STREAM = "/api/v1/agents/stream"
CONCURRENCY = (1, 32)
TARGET_ADDED_P50_MS = 0.3
TARGET_KEPT_PCT = 90.0
TARGET_START_S = 3.0
TARGET_RSS_MB = 300.0
OPENWEBUI_START_S = 11.7
OPENWEBUI_RSS_MB = 896.0
REF_ADDED = ("Open WebUI 0.12.4 adds 5.6 ms (/openai/chat/completions), 15.4 ms "
             "(/api/chat/completions); LiteLLM publishes 2 to 12 ms")
REF_KEPT = "Open WebUI 0.12.4 keeps 22 to 31%"
MB = 1024 * 1024
UP = "owui up"
SERVE = "five `owui serve` in parallel"


@dataclass
class Stack:
    chat: Proc
    upstream: Proc
    gateway: Proc
    baseline: Proc | None  # the same gateway from another source tree (--baseline-src)
    token: str


@dataclass
class StartRun:
    seconds: float
    rss_mb: dict[str, float]  # per process: the services, and a fork server if there is one
    pss_mb: dict[str, float]
    supervisor_mb: float | None
    mode: str  # how the services were started

    @property
    def services_rss_mb(self) -> float:
        return sum(mb for name, mb in self.rss_mb.items() if name in NAMES)

    @property
    def total_pss_mb(self) -> float:
        return sum(self.pss_mb.values())


@dataclass(frozen=True)
class Probe:
    """What wrk asks for, and who answers it directly (the baseline)."""
    name: str
    path: str
    server: str  # "chat" or "upstream"


# The chat list (an empty one: the chat service checks the token and the access header, reads
# the database, answers []); and a streamed answer of 50 events (the fake upstream, as agent).
GET_PROBE = Probe("GET chat list", "/api/v1/chats/", "chat")
SSE_PROBE = Probe("SSE 50 events", "/api/v1/agents/burst", "upstream")


# the stack: chat service, fake streaming upstream, gateway in front of both


def start_stack(procs: Processes, tmp: Path, baseline_src: Path | None) -> Stack:
    # Metrics off everywhere: this measures the request's own cost (what metrics add is
    # measured by --observability).
    env = {**bench_env(tmp / "data"), "OWUI_METRICS": "false"}
    chat = procs.serve("chat", env)
    port = free_port()
    upstream = procs.start("upstream", [
        PYTHON, "-m", "uvicorn", "tests.fakes.upstream:app", "--host", HOST, "--port", str(port),
        "--log-level", "warning", "--no-access-log"], env, port)
    chat.wait_ready()
    upstream.wait_ready("/healthz")
    unused = f"http://{HOST}:{free_port()}"
    gateway_env = {**env, "CHAT_SERVICE_URL": chat.url, "AGENT_SERVICE_URL": upstream.url,
                   "INFERENCE_SERVICE_URL": unused, "RETRIEVAL_SERVICE_URL": unused,
                   **lifted_limits()}
    gateway = procs.serve("gateway", gateway_env)
    gateway.wait_ready()
    baseline = None
    if baseline_src is not None:
        # Its own source tree first on the path; same database, same key, same services.
        port = free_port()
        baseline = procs.start("baseline", [
            PYTHON, "-m", "owui", "serve", "gateway", "--host", HOST, "--port", str(port)],
            {**gateway_env, "PYTHONPATH": str(baseline_src.resolve() / "src")}, port)
        baseline.wait_ready()
    token = sign_up(gateway.url)
    fronts = [proc for proc in (gateway, baseline) if proc is not None]
    for proc in (chat, *fronts):
        check_probe(proc.url + PROBE, token)
        check_ok(proc.url + GET_PROBE.path, token)
    for proc in (upstream, *fronts):
        check_ok(proc.url + SSE_PROBE.path, token)
    return Stack(chat, upstream, gateway, baseline, token)


def check_ok(url: str, token: str) -> None:
    status, body = http_get(url, 10.0, token)
    if status != 200:
        raise RuntimeError(f"{url} answered {status} {body[:200]!r}, not 200")


def sign_up(gateway_url: str) -> str:
    response = httpx.post(f"{gateway_url}/api/v1/auths/signup", timeout=30, json={
        "name": "Bench", "email": "bench@example.com", "password": "bench-password"})
    response.raise_for_status()
    return str(response.json()["token"])


# 1. latency and throughput

DIRECT, GATEWAY, BASELINE = "direct", "gateway", "baseline"
Latency = dict[tuple[Probe, int], dict[str, WrkResult]]


def _paths(stack: Stack, probe: Probe) -> dict[str, tuple[Proc, tuple[int, ...]]]:
    """Each way to the probe: the process wrk talks to, and the processes whose CPU time is
    counted (the server, and the gateway on its path)."""
    server = stack.chat if probe.server == "chat" else stack.upstream
    paths = {DIRECT: (server, (server.popen.pid,)),
             GATEWAY: (stack.gateway, (server.popen.pid, stack.gateway.popen.pid))}
    if stack.baseline is not None:
        paths[BASELINE] = (stack.baseline, (server.popen.pid, stack.baseline.popen.pid))
    return paths


def measure_latency(stack: Stack, probes: list[Probe], duration: int, warmup: int,
                    rounds: int) -> Latency:
    """Direct and through the gateway (and the baseline gateway), in turns that rotate each
    round, `rounds` times; medians per figure."""
    results: Latency = {}
    for probe in probes:
        paths = _paths(stack, probe)
        labels = list(paths)
        for connections in CONCURRENCY:
            runs: dict[str, list[WrkResult]] = {label: [] for label in labels}
            for index in range(rounds):
                shift = index % len(labels)
                for label in labels[shift:] + labels[:shift]:
                    proc, watch = paths[label]
                    progress(f"wrk {probe.name} c={connections} {label}, round {index + 1}/"
                             f"{rounds}: {warmup} s warm-up + {duration} s, load "
                             f"{os.getloadavg()[0]:.2f}")
                    runs[label].append(run_wrk(proc.url + probe.path, stack.token,
                                               connections=connections, duration=duration,
                                               warmup=warmup, watch=watch))
            results[(probe, connections)] = {label: median_result(values)
                                             for label, values in runs.items()}
    return results


# 2. time to first event of a stream


def _stream_request(port: int, token: str) -> bytes:
    return (f"POST {STREAM} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n{}").encode()


def _one_stream(sock: socket.socket, request: bytes) -> float:
    """Send one request on a kept-alive connection; the ms until the first event arrived.
    Reads the whole response (it ends 0.5 s later) so the connection can be reused."""
    start = time.perf_counter()
    sock.sendall(request)
    buffer, first = b"", None
    while not buffer.endswith(b"0\r\n\r\n"):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-response")
        buffer += chunk
        if first is None and b"data: first" in buffer:
            first = time.perf_counter() - start
    if not buffer.startswith(b"HTTP/1.1 200") or first is None:
        raise RuntimeError(f"unexpected stream response: {buffer[:300]!r}")
    return first * 1000


def stream_ttfb_ms(port: int, token: str, count: int) -> float:
    """Median time to first event over `count` requests, after one untimed request."""
    request = _stream_request(port, token)
    with socket.create_connection((HOST, port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _one_stream(sock, request)
        return median([_one_stream(sock, request) for _ in range(count)])


def measure_ttfb(stack: Stack, count: int) -> tuple[float, float]:
    progress(f"stream TTFB direct: {count} requests (0.5 s each)")
    direct = stream_ttfb_ms(stack.upstream.port or 0, stack.token, count)
    progress(f"stream TTFB gateway: {count} requests (0.5 s each)")
    gateway = stream_ttfb_ms(stack.gateway.port or 0, stack.token, count)
    return direct, gateway


# 3. start-up time and idle memory


def up_port_args(base: int) -> list[str] | None:
    """The port options of `owui up` as it is now, or None when `owui up` is not there."""
    try:
        done = subprocess.run([PYTHON, "-m", "owui", "up", "--help"], capture_output=True,
                              text=True, timeout=60, env={**os.environ, "COLUMNS": "200"},
                              check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    if "--base-port" in done.stdout:
        return ["--base-port", str(base)]
    if "SERVICE=PORT" in done.stdout:
        first = SERVICES[0].port
        return [arg for s in SERVICES for arg in ("-p", f"{s.name}={base + s.port - first}")]
    return None


def wait_all_ready(urls: list[str], alive: Callable[[], bool], timeout: float = 60.0) -> None:
    waiting = list(urls)
    deadline = time.monotonic() + timeout
    while waiting:
        if not alive():
            raise RuntimeError("a process exited before all services were ready")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:g} s: {', '.join(waiting)}")
        waiting = [url for url in waiting if http_status(f"{url}/readyz", 0.5) != 200]
        if waiting:
            time.sleep(0.01)


def process_name(pid: int) -> str:
    """The service a process runs (`... serve chat ...`), "fork server", or its pid."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return str(pid)
    if b"serve" in words[:-1]:
        return words[words.index(b"serve") + 1].decode()
    if any(b"fork" in word for word in words):
        return "fork server"
    return str(pid)


def memory(pids: list[int]) -> tuple[dict[str, float], dict[str, float]]:
    """RSS and PSS in MB of each process, by name."""
    rss: dict[str, float] = {}
    pss: dict[str, float] = {}
    for pid in pids:
        name = process_name(pid)
        name = f"{name} ({pid})" if name in rss else name
        rss[name], pss[name] = rss_bytes(pid) / MB, pss_bytes(pid) / MB
    return rss, pss


def service_urls(base: int) -> list[str]:
    first = SERVICES[0].port
    return [f"http://{HOST}:{base + s.port - first}" for s in SERVICES]


def start_once_up(port_args: list[str], base: int, idle: float) -> StartRun:
    with tempfile.TemporaryDirectory(prefix="owui-bench-up-") as tmp:
        # As a user would run it: `owui up` makes the signing key in the fresh data dir.
        env = {"JWT_SECRET_KEY": ""}
        argv = [PYTHON, "-m", "owui", "up", "--data-dir", f"{tmp}/data", *port_args]
        seen: dict[int, str | None] = {}
        with Processes(Path(tmp) / "logs") as procs:
            started = time.perf_counter()
            up = procs.start("up", argv, env)
            try:
                wait_all_ready(service_urls(base), lambda: up.popen.poll() is None)
                seconds = time.perf_counter() - started
                time.sleep(idle)
                children = descendants(up.popen.pid)
                seen = {pid: start_time(pid) for pid in children}
                rss, pss = memory(children)
                supervisor = rss_bytes(up.popen.pid) / MB
            except (RuntimeError, TimeoutError) as exc:
                raise RuntimeError(f"{exc}\n{up.log_tail()}") from None
            finally:
                seen |= {pid: start_time(pid) for pid in descendants(up.popen.pid)}
                up.stop(15)
                for pid, when in seen.items():
                    kill_if_same(pid, when)
    return StartRun(seconds, rss, pss, supervisor, UP)


def start_once_serve(base: int, idle: float, mode: str) -> StartRun:
    """Fallback: five `owui serve` processes started at once, no supervisor."""
    first = SERVICES[0].port
    with tempfile.TemporaryDirectory(prefix="owui-bench-serve-") as tmp, \
            Processes(Path(tmp) / "logs") as procs:
        env = bench_env(Path(tmp) / "data")
        env |= {s.url_variable: f"http://{HOST}:{base + s.port - first}"
                for s in SERVICES if s.url_variable}
        started = time.perf_counter()
        for s in SERVICES:
            procs.serve(s.name, env, base + s.port - first)
        wait_all_ready(service_urls(base),
                       lambda: all(p.popen.poll() is None for p in procs.started))
        seconds = time.perf_counter() - started
        time.sleep(idle)
        rss, pss = memory([p.popen.pid for p in procs.started])
    return StartRun(seconds, rss, pss, None, mode)


def measure_startup(runs: int, idle: float) -> list[StartRun]:
    """`owui up` each run; five `owui serve` instead (labelled) when `owui up` is not there,
    or for the runs after it failed."""
    results: list[StartRun] = []
    mode = UP
    for index in range(runs):
        base = free_port_block(len(SERVICES))
        port_args = up_port_args(base) if mode == UP else None
        if mode == UP and port_args is None:
            mode = f"{SERVE} (owui up not available)"
        progress(f"start-up run {index + 1}/{runs}: {mode}, fresh data dir")
        if port_args is not None:
            try:
                results.append(start_once_up(port_args, base, idle))
                continue
            except RuntimeError as exc:
                tail = "\n".join(str(exc).splitlines()[-8:])
                progress(f"`owui up` failed; this run and the next use `owui serve`:\n{tail}")
                mode = f"{SERVE} (owui up failed)"
                base = free_port_block(len(SERVICES))
        results.append(start_once_serve(base, idle, mode))
    return results


# the table


def _met(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def _versus(front: WrkResult, direct: WrkResult) -> tuple[float, float]:
    """What a gateway adds at p50 (ms) and the share of direct throughput it keeps (%)."""
    return front.p50_ms - direct.p50_ms, 100 * front.rps / direct.rps


def latency_rows(table: Table, results: Latency) -> None:
    for (probe, connections), by_path in results.items():
        direct, gateway = by_path[DIRECT], by_path[GATEWAY]
        baseline = by_path.get(BASELINE)
        added, kept = _versus(gateway, direct)
        first, last = connections == CONCURRENCY[0], connections == CONCURRENCY[-1]
        headline = probe == GET_PROBE
        name = f"{probe.name} c={connections}"
        base_added, base_kept = _versus(baseline, direct) if baseline else (0.0, 0.0)
        table.add_row(f"{name}  p50", f"{direct.p50_ms:.2f} ms", f"{gateway.p50_ms:.2f} ms",
                      f"{added:+.2f} ms", _baseline_cell(baseline, "p50", base_added),
                      f"≤ +{TARGET_ADDED_P50_MS} ms" if first and headline else "",
                      _met(added <= TARGET_ADDED_P50_MS) if first and headline else "",
                      REF_ADDED if first and headline else "")
        table.add_row(f"{name}  p99", f"{direct.p99_ms:.2f} ms", f"{gateway.p99_ms:.2f} ms",
                      f"{gateway.p99_ms - direct.p99_ms:+.2f} ms",
                      _baseline_cell(baseline, "p99", None), "", "", "")
        table.add_row(f"{name}  req/s", f"{direct.rps:,.0f}", f"{gateway.rps:,.0f}",
                      f"kept {kept:.0f}%", _baseline_cell(baseline, "rps", base_kept),
                      f"≥ {TARGET_KEPT_PCT:.0f}% kept" if last and headline else "",
                      _met(kept >= TARGET_KEPT_PCT) if last and headline else "",
                      REF_KEPT if last and headline else "")
        cpu_row(table, name, direct, gateway, baseline)


def _baseline_cell(baseline: WrkResult | None, figure: str, versus: float | None) -> str:
    """The baseline gateway's figure, and what it adds or keeps against direct."""
    if baseline is None:
        return ""
    if figure == "rps":
        return f"{baseline.rps:,.0f} (kept {versus:.0f}%)"
    value = baseline.p50_ms if figure == "p50" else baseline.p99_ms
    return f"{value:.2f} ms" + (f" ({versus:+.2f} ms)" if versus is not None else "")


def cpu_row(table: Table, name: str, direct: WrkResult, gateway: WrkResult,
            baseline: WrkResult | None) -> None:
    """CPU per request: less sensitive than latency to whatever else the machine runs."""
    (server,) = direct.cpu_us
    behind, front = gateway.cpu_us
    base = f"{baseline.cpu_us[1]:.0f} gw + {baseline.cpu_us[0]:.0f}" if baseline else ""
    table.add_row(f"{name}  CPU µs/request", f"{server:.0f} server",
                  f"{behind + front:.0f} = {front:.0f} gw + {behind:.0f}",
                  f"gateway {front / server:.1f}x server", base, "", "", "", end_section=True)


def startup_rows(table: Table, runs: list[StartRun]) -> None:
    seconds = median([r.seconds for r in runs])
    each = ", ".join(f"{r.seconds:.2f}" for r in runs)
    table.add_row(f"start to 5 ready, median of {len(runs)}", "", f"{seconds:.2f} s",
                  f"runs {each} s", f"≤ {TARGET_START_S:g} s", _met(seconds <= TARGET_START_S),
                  f"Open WebUI 0.12.4: {OPENWEBUI_START_S} s to serve (ours: "
                  f"{seconds / OPENWEBUI_START_S:.0%} of it)")
    rss = median([r.services_rss_mb for r in runs])
    table.add_row("idle RSS, sum of 5 services", "", f"{rss:.0f} MB", "shared pages in each",
                  f"≤ {TARGET_RSS_MB:g} MB", _met(rss <= TARGET_RSS_MB),
                  f"Open WebUI 0.12.4: {OPENWEBUI_RSS_MB:g} MB idle "
                  f"(ours {rss / OPENWEBUI_RSS_MB:.0%} of it)")
    pss = median([r.total_pss_mb for r in runs])
    table.add_row("idle PSS, services (+fork server)", "", f"{pss:.0f} MB", "shared pages split",
                  f"≤ {TARGET_RSS_MB:g} MB", _met(pss <= TARGET_RSS_MB),
                  f"(ours {pss / OPENWEBUI_RSS_MB:.0%} of Open WebUI's)")
    supervisors = [r.supervisor_mb for r in runs if r.supervisor_mb is not None]
    if supervisors:
        table.add_row("idle RSS, supervisor (apart)", "",
                      f"{median(supervisors):.0f} MB", "", "", "", "")


def run_numbers(runs: list[StartRun], mode: str) -> str:
    return ", ".join(str(index + 1) for index, run in enumerate(runs) if run.mode == mode)


def print_table(latency: Latency, ttfb: tuple[float, float], runs: list[StartRun],
                args: argparse.Namespace, load: float) -> None:
    table = Table(title=f"owui gateway bench: {os.cpu_count()} CPUs, load {load:.2f} before "
                        f"start, {os.getloadavg()[0]:.2f} at the end, Python "
                        f"{platform.python_version()}, loopback, metrics off; wrk "
                        f"{args.warmup} s warm-up + {args.duration} s, median of "
                        f"{args.rounds} rotating rounds", title_justify="left")
    for column in ("measure", "baseline: direct", "owui: via gateway", "owui vs baseline",
                   f"gateway from {args.baseline_src}" if args.baseline_src else "",
                   "target", "met"):
        table.add_column(column, no_wrap=True)
    table.add_column("reference", overflow="fold")
    latency_rows(table, latency)
    direct, gateway = ttfb
    table.add_row("stream: first event, median", f"{direct:.2f} ms", f"{gateway:.2f} ms",
                  f"{gateway - direct:+.2f} ms (x{gateway / direct:.2f})", "", "", "", "",
                  end_section=True)
    if runs:
        startup_rows(table, runs)
    console = Console(width=max(200, Console().width))
    console.print(table)
    if not runs:
        return
    last = runs[-1]
    modes = "; ".join(f"{mode} (runs {run_numbers(runs, mode)})"
                      for mode in dict.fromkeys(r.mode for r in runs))
    console.print(f"start-up measured with: {modes}")
    console.print("idle memory per process, last run (RSS / PSS): " + ", ".join(
        f"{name} {mb:.0f} / {last.pss_mb[name]:.0f} MB" for name, mb in last.rss_mb.items()))


# --observability: metrics on/off and tracing at 10% against off, paired per round


OBSERVABILITY_TARGET_US = 20.0  # issue 20: metrics add at most 20 µs per request at p50
Variants = dict[str, Proc]


def start_observed_gateways(procs: Processes, tmp: Path) -> tuple[Variants, str]:
    env = bench_env(tmp / "data")
    chat = procs.serve("chat", env)
    port = free_port()
    collector = procs.start("otlp", [
        PYTHON, "-m", "uvicorn", "tests.fakes.otlp:app", "--host", HOST, "--port", str(port),
        "--log-level", "warning", "--no-access-log"], env, port)
    chat.wait_ready()
    collector.wait_ready("/healthz")
    unused = f"http://{HOST}:{free_port()}"
    base = {**env, "CHAT_SERVICE_URL": chat.url, "AGENT_SERVICE_URL": unused,
            "INFERENCE_SERVICE_URL": unused, "RETRIEVAL_SERVICE_URL": unused,
            **lifted_limits(), "OWUI_ACCESS_LOG": "false"}
    variants = {
        "metrics on": procs.serve("gateway", {**base, "OWUI_METRICS_PORT": str(free_port())}),
        "metrics off": procs.serve("gateway", {**base, "OWUI_METRICS": "false"}),
        "tracing 10%": procs.serve("gateway", {
            **base, "OWUI_METRICS": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.1"}),
    }
    for proc in variants.values():
        proc.wait_ready()
    token = sign_up(variants["metrics on"].url)
    for proc in variants.values():
        check_probe(proc.url + PROBE, token)
    return variants, token


def measure_observability(variants: Variants, token: str, duration: int, warmup: int,
                          rounds: int) -> dict[str, list[float]]:
    """p50 in µs of each gateway, per round; the order within a round turns each round."""
    names = list(variants)
    p50s: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        order = names[index % len(names):] + names[:index % len(names)]
        for name in order:
            progress(f"wrk c=1 {name}, round {index + 1}/{rounds}: {warmup} s warm-up + "
                     f"{duration} s")
            result = run_wrk(variants[name].url + PROBE, token, connections=1,
                             duration=duration, warmup=warmup)
            p50s[name].append(result.p50_ms * 1000)
    return p50s


def print_observability(p50s: dict[str, list[float]], args: argparse.Namespace,
                        load: float) -> None:
    rounds = len(p50s["metrics off"])
    table = Table(title=f"owui gateway: observability cost, {os.cpu_count()} CPUs, load "
                        f"{load:.2f} before start, {os.getloadavg()[0]:.2f} at the end; wrk c=1, "
                        f"{args.warmup} s warm-up + {args.duration} s, {rounds} rounds",
                  title_justify="left")
    for column in ("gateway", "p50 median", "paired vs metrics off (median of rounds)",
                   "target", "met"):
        table.add_column(column, no_wrap=True)
    off = p50s["metrics off"]
    for name, values in p50s.items():
        if name == "metrics off":
            table.add_row(name, f"{median(values):.1f} µs", "", "", "")
            continue
        added = median([on - base for on, base in zip(values, off, strict=True)])
        target = f"<= {OBSERVABILITY_TARGET_US:.0f} µs" if name == "metrics on" else ""
        met = _met(added <= OBSERVABILITY_TARGET_US) if name == "metrics on" else ""
        table.add_row(name, f"{median(values):.1f} µs", f"{added:+.1f} µs", target, met)
    Console(width=max(120, Console().width)).print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="direct and gateway runs take turns this many times; medians")
    parser.add_argument("--ttfb-requests", type=int, default=30)
    parser.add_argument("--start-runs", type=int, default=3, help="0: no start-up runs")
    parser.add_argument("--idle", type=float, default=2.0,
                        help="seconds to wait after ready before reading memory")
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="a checkout of another commit (`git worktree add DIR BASE`): its "
                             "gateway runs beside this one, measured in the same rounds")
    parser.add_argument("--no-stream", action="store_true",
                        help="skip the 50-event SSE throughput runs")
    parser.add_argument("--observability", action="store_true",
                        help="only the cost of metrics and of tracing at 10%% at the gateway")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_wrk()
    stop_on_sigterm()
    load = load_average()
    if args.observability:
        with tempfile.TemporaryDirectory(prefix="owui-bench-") as tmp, \
                Processes(Path(tmp) / "logs") as procs:
            progress("starting chat service, stand-in collector, three gateways")
            variants, token = start_observed_gateways(procs, Path(tmp))
            p50s = measure_observability(variants, token, args.duration, args.warmup,
                                         args.rounds)
        print_observability(p50s, args, load)
        return
    with tempfile.TemporaryDirectory(prefix="owui-bench-") as tmp, \
            Processes(Path(tmp) / "logs") as procs:
        progress("starting chat service, fake streaming upstream, gateway")
        stack = start_stack(procs, Path(tmp), args.baseline_src)
        probes = [GET_PROBE] if args.no_stream else [GET_PROBE, SSE_PROBE]
        latency = measure_latency(stack, probes, args.duration, args.warmup, args.rounds)
        ttfb = measure_ttfb(stack, args.ttfb_requests)
    runs = measure_startup(args.start_runs, args.idle)
    print_table(latency, ttfb, runs, args, load)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        progress("interrupted; every process started here has been stopped")
        raise SystemExit(130) from None
