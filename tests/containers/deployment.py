"""A rendered Compose deployment run by podman-compose: rendered by `owui render compose` from
the server profile with the test's images, plus what only the test adds (the stand-in provider
as a container, a second gateway on its own host port, free host ports)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.containers.podman import REPO, Podman

PODMAN_COMPOSE = Path(sys.executable).parent / "podman-compose"
FAKE_PORT = 9000
# The stand-in provider (tests/fakes/openai.py) and what every service is told about it: the
# model list and embeddings come from it, so no model is loaded in the containers.
TEST_ENV = {
    "OPENAI_API_BASE_URLS": f"http://fake-openai:{FAKE_PORT}/v1",
    "ENABLE_OLLAMA_API": "false",
    "EMBEDDING_ENGINE": "openai",
    "EMBEDDING_MODEL": "text-embedding-fake",
    "RATE_LIMIT": "1000000/minute",  # the load runs; the sign-in limit stays the default
}
FAKE_MODELS = "gpt-fake;gpt-fake-slow;gpt-fake-echo;gpt-fake-agent;text-embedding-fake"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def profile(folder: Path, name: str, chat_replicas: int = 1,
            env: dict[str, str] | None = None) -> Path:
    """The shipped server profile, with the stand-in provider and the chat replicas."""
    data = yaml.safe_load((REPO / "profiles/server.yaml").read_text())
    data["name"] = name
    data["env"] = {**data.get("env", {}), **TEST_ENV, **(env or {})}
    services = data.setdefault("deploy", {}).setdefault("services", {})
    services.setdefault("chat", {})["replicas"] = chat_replicas
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def render(folder: Path, profile_path: Path, images: dict[str, str]) -> None:
    args = [str(REPO / ".venv/bin/owui"), "render", "compose", "--profile", str(profile_path),
            "-o", str(folder)]
    for name, reference in images.items():
        args += ["--image", f"{name}={reference}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


@dataclass
class Deployment:
    podman: Podman
    folder: Path
    project: str
    gateways: int = 1
    ports: list[int] = field(default_factory=list)

    @property
    def file(self) -> Path:
        return self.folder / "compose.test.yml"

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @property
    def url(self) -> str:
        return self.urls[0]

    def prepare(self, owui_image: str, fake_words: int = 8) -> None:
        """The rendered file with the test's additions, written beside it (the rendered one
        is kept as it is): free host ports, more gateways, the stand-in provider."""
        doc = yaml.safe_load((self.folder / "docker-compose.yml").read_text())
        services = doc["services"]
        gateway = services["gateway"]
        self.ports = [free_port() for _ in range(self.gateways)]
        gateway["ports"] = [f"127.0.0.1:{self.ports[0]}:8000"]
        for number in range(2, self.gateways + 1):
            services[f"gateway-{number}"] = {
                **gateway, "ports": [f"127.0.0.1:{self.ports[number - 1]}:8000"]}
        services["fake-openai"] = {
            "image": owui_image, "restart": "unless-stopped",
            "entrypoint": ["python", "-m", "uvicorn", "tests.fakes.openai:app"],
            "command": ["--host", "0.0.0.0", "--port", str(FAKE_PORT), "--log-level",
                        "warning"],
            "working_dir": "/src", "environment": {
                "PYTHONPATH": "/src", "FAKE_MODELS": FAKE_MODELS,
                "FAKE_WORDS": str(fake_words), "FAKE_CHUNK_DELAY": "0.05"},
            "volumes": [f"{REPO / 'tests'}:/src/tests:ro"], "networks": ["owui"]}
        self.file.write_text(yaml.safe_dump(doc, sort_keys=False))

    def compose(self, *args: str, check: bool = True,
                timeout: float = 900) -> subprocess.CompletedProcess[str]:
        command = [str(PODMAN_COMPOSE), "-p", self.project, "-f", str(self.file), *args]
        done = subprocess.run(command, cwd=self.folder, env=self.podman.env, text=True,
                              capture_output=True, timeout=timeout, check=False)
        if check and done.returncode:
            raise AssertionError(f"podman-compose {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def up(self) -> float:
        started = time.monotonic()
        self.compose("up", "-d")
        self.wait_healthy()
        return time.monotonic() - started

    def down(self, volumes: bool = False) -> None:
        self.compose("down", *(["-v"] if volumes else []), check=False)

    def remove(self) -> None:
        self.down(volumes=True)
        self.podman.remove_project(self.project)

    # -- containers ------------------------------------------------------------------------

    def containers(self) -> list[dict[str, Any]]:
        listed = self.podman.run("ps", "-a", "--format", "json", "--filter",
                                 f"label=io.podman.compose.project={self.project}").stdout
        return json.loads(listed or "[]")

    def names(self, service: str) -> list[str]:
        return sorted(c["Names"][0] for c in self.containers()
                      if c["Labels"].get("io.podman.compose.service") == service)

    def inspect(self, name: str) -> dict[str, Any]:
        return json.loads(self.podman.run("inspect", name).stdout)[0]

    def ip(self, name: str) -> str:
        networks = self.inspect(name)["NetworkSettings"]["Networks"]
        return next(iter(networks.values()))["IPAddress"]

    def logs(self, name: str, tail: int = 60) -> str:
        done = self.podman.run("logs", "--tail", str(tail), name, check=False)
        return done.stdout + done.stderr

    def healthy(self, name: str) -> bool:
        return self.podman.run("healthcheck", "run", name, check=False,
                               timeout=60).returncode == 0

    def wait_healthy(self, timeout: float = 600) -> None:
        """Every container running and, where it has a health check, healthy: no systemd here
        runs the checks on their interval, so they are run now (`podman healthcheck run`)."""
        deadline = time.monotonic() + timeout
        pending: list[str] = []
        while time.monotonic() < deadline:
            pending = []
            for container in self.containers():
                name = container["Names"][0]
                if container["State"] != "running":
                    pending.append(f"{name} {container['State']}")
                elif self.inspect(name)["Config"].get("Healthcheck") and not self.healthy(name):
                    pending.append(f"{name} not healthy")
            if not pending:
                return
            time.sleep(3)
        details = "\n".join(f"--- {c['Names'][0]}\n{self.logs(c['Names'][0], 20)}"
                            for c in self.containers())
        raise AssertionError(f"not healthy after {timeout} s: {pending}\n{details}")

    def kill_process(self, name: str) -> None:
        """SIGKILL the container's main process, as a crash would: not `podman kill`, which
        counts as stopped by the user (no restart under `unless-stopped`)."""
        pid = self.inspect(name)["State"]["Pid"]
        os.kill(pid, signal.SIGKILL)

    def restarts(self, name: str) -> int:
        return int(self.inspect(name).get("RestartCount", 0))

    def memory(self) -> dict[str, float]:
        """MiB in use per container (podman stats)."""
        listed = self.podman.run("stats", "--no-stream", "--format", "json", *[
            c["Names"][0] for c in self.containers() if c["State"] == "running"]).stdout
        out: dict[str, float] = {}
        for row in json.loads(listed or "[]"):
            used = row.get("mem_usage", "").split("/")[0].strip()
            out[row["name"]] = _mib(used)
        return out


def _mib(text: str) -> float:
    units = {"b": 1 / 2**20, "kb": 1 / 1024, "kib": 1 / 1024, "mb": 1.0, "mib": 1.0,
             "gb": 1024.0, "gib": 1024.0}
    number = text.rstrip("BbKkMmGgIi")
    unit = text[len(number):].lower()
    return round(float(number) * units.get(unit, 1.0), 1)


def wait_answering(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} not ready in {timeout} s")
