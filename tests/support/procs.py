"""Real service processes for tests: start on a free port, wait until ready, stop cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port with nothing listening (free a moment ago)."""
    return free_port()


@dataclass
class Proc:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = 90.0, path: str = "/readyz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   f"{self.log()[-3000:]}")
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def spawn(args: list[str], name: str, port: int, env: dict[str, str], log_dir: Path) -> Proc:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{port}.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=REPO)
    return Proc(name, port, process, log_path, env)


def start_service(name: str, env: dict[str, str], log_dir: Path, port: int | None = None,
                  wait: bool = True) -> Proc:
    port = port or free_port()
    proc = spawn([sys.executable, "-m", "owui", "serve", name, "--port", str(port)], name, port,
                 env, log_dir)
    if wait:
        try:
            proc.wait_ready()
        except BaseException:
            proc.stop()
            raise
    return proc


def start_fake(module: str, name: str, env: dict[str, str], log_dir: Path) -> Proc:
    """One of the fakes under tests/fakes, as its own uvicorn process."""
    port = free_port()
    proc = spawn([sys.executable, "-m", "uvicorn", f"tests.fakes.{module}:app", "--port",
                  str(port), "--log-level", "warning"], name, port, env, log_dir)
    try:
        proc.wait_ready(path="/healthz")
    except BaseException:
        proc.stop()
        raise
    return proc
