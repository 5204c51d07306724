"""Helpers for the CLI tests: `owui` as a real process, and an `owui up` stack on free ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from owui.core.services import NAMES, SERVICES

REPO = Path(__file__).resolve().parents[1]
# Variables that would point the services somewhere other than where the test puts them.
_OWN_VARIABLES = {"JWT_SECRET_KEY", "OWUI_DATA_DIR"} | {
    s.url_variable for s in SERVICES if s.url_variable}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OWN_VARIABLES}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def free_ports(count: int) -> list[int]:
    """Distinct ports free a moment ago: all bound at once, so the kernel never repeats one."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_args(ports: dict[str, int]) -> list[str]:
    return [arg for name, port in ports.items() for arg in ("--port", f"{name}={port}")]


def run_owui(*args: str, env: dict[str, str] | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "owui", *args], capture_output=True, text=True,
                          env=env or clean_env(), timeout=timeout, cwd=REPO)


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.05, log: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} not within {timeout} s\n{log()[-4000:]}")


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class UpStack:
    """`owui up` on free ports with its own data dir; remembers every pid it ever saw."""

    data_dir: Path
    log_path: Path
    ports: dict[str, int]
    process: subprocess.Popen[bytes]
    seen: dict[int, psutil.Process] = field(default_factory=dict)

    @classmethod
    def start(cls, tmp: Path, *extra: str, env: dict[str, str] | None = None) -> UpStack:
        ports = dict(zip(NAMES, free_ports(len(NAMES)), strict=True))
        data_dir, log_path = tmp / "data", tmp / "up.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "owui", "up", "--data-dir", str(data_dir),
                 *port_args(ports), *extra],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env or clean_env(), cwd=REPO)
        stack = cls(data_dir, log_path, ports, process)
        stack.seen[process.pid] = psutil.Process(process.pid)
        return stack

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def services(self) -> dict[str, psutil.Process]:
        """The services now running under `owui up`, by name (pids recorded for cleanup)."""
        found: dict[str, psutil.Process] = {}
        try:
            children = self.seen[self.process.pid].children(recursive=True)
        except psutil.NoSuchProcess:
            return found
        for child in children:
            try:
                match = re.search(r"\bserve (\w+)", " ".join(child.cmdline()))
            except psutil.Error:
                continue
            self.seen.setdefault(child.pid, child)
            if match:
                found[match[1]] = child
        return found

    def wait_ready(self, timeout: float = 120) -> None:
        def all_ready() -> bool:
            if not self.alive():
                raise AssertionError(f"owui up exited with {self.process.returncode}:\n"
                                     f"{self.log()[-4000:]}")
            return "ready in" in self.log() and all(ready(self.url(n)) for n in NAMES)

        wait_until(all_ready, timeout, "all five services ready", log=self.log)
        self.services()

    def left_behind(self) -> list[psutil.Process]:
        """Every process seen so far, or in a service's process group, that still runs."""
        groups = {pid for pid in self.seen if pid != self.process.pid}
        alive = [p for p in self.seen.values() if _running(p)]
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) in groups and proc not in alive:
                    alive.append(proc)
            except (ProcessLookupError, psutil.Error):
                continue
        return alive

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM to `owui up`, then make sure, whatever happened, that nothing is left."""
        self.services()
        code = None
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        else:
            code = self.process.returncode
        return code

    def kill_everything(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(10)
        for proc in self.left_behind():
            try:
                proc.kill()
            except psutil.Error:
                continue


@contextmanager
def running_stack(tmp: Path) -> Iterator[UpStack]:
    """An `owui up` started and ready (a module's shared stack); stopped on the way out, and
    whatever it left behind killed."""
    up = UpStack.start(tmp)
    try:
        up.wait_ready()
        yield up
    finally:
        up.stop()
        up.kill_everything()


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
