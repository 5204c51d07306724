"""Helpers shared by the benchmarks: processes, ports, wrk, resident memory, output.

Benchmarks run by hand (`python bench/gateway.py`), on loopback only; every process they start
is stopped on the way out, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType, TracebackType

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
HOST = "127.0.0.1"
# A small authenticated GET: the chat service checks the token, matches no route, answers 404.
# (`/api/v1/chats/bench` itself is a route now: `/api/v1/chats/{id}`, a database lookup.)
PROBE = "/api/v1/chats/bench/no/such/path"
WRK_INSTALL = ("wrk is not installed. Install it with:\n"
               "  sudo apt-get update && sudo apt-get install -y wrk   (Debian, Ubuntu)\n"
               "  brew install wrk                                     (macOS)")
_WRK_MARK = "BENCH-RESULT "
_WRK_LUA = """\
wrk.method = "%(method)s"
wrk.headers["Authorization"] = "Bearer %(token)s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"p50_us": %%d, "p99_us": %%d, "requests": %%d, "duration_us": %%d, '
    .. '"socket_errors": %%d, "bad_status": %%d}\\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so `finally` blocks stop what was started."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _ephemeral_low() -> int:
    """The lowest port the kernel hands out to outgoing connections."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports, below the ephemeral range: polling a port
    in that range before its server listens can connect the client socket to itself."""
    high = min(_ephemeral_low(), 65536) - count
    for _ in range(500):
        base = random.randint(max(1024, high - 12000), high - 1)
        if all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"found no {count} consecutive free ports")


def free_port() -> int:
    return free_port_block(1)


def http_get(url: str, timeout: float = 1.0,
             token: str | None = None) -> tuple[int | None, bytes]:
    """The status and body of a GET; status None when nothing answers."""
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
    except (OSError, ValueError, http.client.HTTPException):
        return None, b""


def http_status(url: str, timeout: float = 1.0) -> int | None:
    return http_get(url, timeout)[0]


def check_probe(url: str, token: str) -> None:
    """The probe must get the framework's 404 for a path no route matches, after the token
    was checked: not a 401, and not the 404 of a route that looked something up."""
    status, body = http_get(url, 10.0, token)
    if status != 404 or json.loads(body or b"{}") != {"detail": "Not Found"}:
        raise RuntimeError(f"{url} answered {status} {body[:200]!r}, not the plain 404 of an "
                           "authenticated request to a path that no route matches")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, path: str = "/readyz", timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.popen.returncode}:\n"
                                   f"{self.log_tail()}")
            if http_status(self.url + path) == 200:
                return
            time.sleep(0.02)
        raise TimeoutError(f"{self.name} not ready after {timeout:g} s:\n{self.log_tail()}")

    def interrupt(self) -> None:
        """SIGINT, as Ctrl-C would send."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)

    def wait_stopped(self, grace: float = 10.0) -> None:
        """Wait up to `grace` seconds, then SIGKILL."""
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)

    def stop(self, grace: float = 10.0) -> None:
        self.interrupt()
        self.wait_stopped(grace)


class Processes:
    """Processes started for one benchmark; all stopped on exit from the `with` block.

    Each gets a session of its own, as `owui up` gives each service: where the kernel shares
    CPU between sessions (autogroup scheduling, on by default on Linux desktops and many
    servers), processes of one session would split one share of a busy machine between them,
    and a path through two processes (gateway and service) would look slower than it is.
    A terminal's Ctrl-C therefore reaches only this script, which stops them all."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Proc] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_all()

    def start(self, name: str, argv: list[str], env: dict[str, str],
              port: int | None = None) -> Proc:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}-{len(self.started)}.log"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(argv, env=full_env, cwd=REPO, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        proc = Proc(name, popen, log_path, port)
        self.started.append(proc)
        return proc

    def serve(self, service: str, env: dict[str, str], port: int | None = None) -> Proc:
        """`owui serve SERVICE` on a free port (not waited for)."""
        port = port or free_port()
        argv = [PYTHON, "-m", "owui", "serve", service, "--host", HOST, "--port", str(port)]
        return self.start(service, argv, env, port)

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.interrupt()
        for proc in reversed(self.started):
            proc.wait_stopped()


def lifted_limits(rate: str = "100000000/minute") -> dict[str, str]:
    """Every rate limit of the gateway (Settings' `*_rate_limit` fields) set out of reach: a
    bench measures the path, not refusals. Read from Settings, so that a limit added later is
    lifted too (one added without the benches knowing made three of them fail with 429s)."""
    from owui.core.config import Settings

    return {name.upper(): rate for name in Settings.model_fields
            if name == "rate_limit" or name.endswith("_rate_limit")}


def bench_env(data_dir: Path, secret: str | None = None) -> dict[str, str]:
    """What every service of a benchmark shares: the signing key and a data dir."""
    return {"JWT_SECRET_KEY": secret or secrets.token_urlsafe(32), "OWUI_DATA_DIR": str(data_dir)}


def mint_token(secret: str, sub: str = "bench-user", role: str = "user") -> str:
    from datetime import timedelta

    from owui.core.tokens import issue_token

    token, _exp = issue_token(secret, sub, role, timedelta(hours=2))
    return token


# wrk


@dataclass(frozen=True)
class WrkResult:
    p50_ms: float
    p99_ms: float
    rps: float
    requests: int
    socket_errors: int
    bad_status: int
    # CPU time each watched process spent per request during the measured run, in µs.
    cpu_us: tuple[float, ...] = ()


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit(WRK_INSTALL)
    return path


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk_script(token: str, method: str, directory: Path) -> Path:
    path = directory / "bench.lua"
    path.write_text(_WRK_LUA % {"method": method, "token": token, "mark": _WRK_MARK})
    return path


def _wrk_once(script: Path, url: str, threads: int, connections: int,
              seconds: int) -> WrkResult:
    argv = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
            "--timeout", "5s", "-s", str(script), url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30,
                          check=False, start_new_session=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(_WRK_MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    raw = json.loads(lines[-1].removeprefix(_WRK_MARK))
    return WrkResult(p50_ms=raw["p50_us"] / 1000, p99_ms=raw["p99_us"] / 1000,
                     rps=raw["requests"] / (raw["duration_us"] / 1e6),
                     requests=raw["requests"], socket_errors=raw["socket_errors"],
                     bad_status=raw["bad_status"])


def run_wrk(url: str, token: str, *, connections: int, duration: int, warmup: int,
            watch: tuple[int, ...] = (), method: str = "GET") -> WrkResult:
    """A warm-up run (discarded), then the measured run, with the CPU time per request of
    the processes in `watch`. One wrk thread per 16 connections, at most two."""
    threads = max(1, min(2, connections // 16))
    with tempfile.TemporaryDirectory(prefix="owui-wrk-") as directory:
        script = _wrk_script(token, method, Path(directory))
        if warmup > 0:
            _wrk_once(script, url, threads, connections, warmup)
        before = [cpu_seconds(pid) for pid in watch]
        result = _wrk_once(script, url, threads, connections, duration)
        spent = [cpu_seconds(pid) - start for pid, start in zip(watch, before, strict=True)]
    if result.socket_errors:
        progress(f"warning: {result.socket_errors} socket errors from wrk on {url}")
    per_request = tuple(1e6 * cpu / max(1, result.requests) for cpu in spent)
    return replace(result, cpu_us=per_request)


def median_result(results: list[WrkResult]) -> WrkResult:
    """Each figure the median over rounds (figure by figure, not one round picked)."""
    cpu = tuple(median(list(values)) for values in zip(*(r.cpu_us for r in results),
                                                       strict=True))
    return WrkResult(
        p50_ms=median([r.p50_ms for r in results]), p99_ms=median([r.p99_ms for r in results]),
        rps=median([r.rps for r in results]), requests=sum(r.requests for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        bad_status=sum(r.bad_status for r in results), cpu_us=cpu)


def load_average() -> float:
    """The 1-minute load average: how busy the machine was before we started."""
    return os.getloadavg()[0]


# resident memory, from /proc


def rss_bytes(pid: int) -> int:
    """VmRSS of one process, 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size: resident pages, each shared page split between its sharers, so
    that the sum over processes that share memory (a fork server's children) is not inflated.
    0 when it is gone or unreadable."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may itself hold spaces.
    return text[text.rindex(")") + 2:].split()


def start_time(pid: int) -> str | None:
    """The kernel's start time of a process: with the pid, it names one process for good."""
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, children first."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        children = parents.get(queue.pop(0), [])
        found.extend(children)
        queue.extend(children)
    return found


def kill_if_same(pid: int, started: str | None) -> None:
    """SIGKILL `pid` only if it is still the process that was seen starting at `started`."""
    if started is not None and start_time(pid) == started:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
