"""bench/load.py against the Compose deployment in containers: one replica of each service,
then two gateways and two chat replicas. Builds (or reuses) the images as the e2e test does.

    .venv/bin/python -m tests.containers.bench [--users 40] [--seconds 60] [--warmup 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.containers.deployment import Deployment, profile, render
from tests.containers.podman import REPO, Podman, log

# New accounts chat at once, and the load's sign-ins from one address are not refused.
BENCH_ENV = {"DEFAULT_USER_ROLE": "user", "SIGNIN_RATE_LIMIT": "10000000/minute",
             "OWUI_ACCESS_LOG": "false", "OWUI_LOG_LEVEL": "WARNING"}


def run(podman: Podman, images: dict[str, str], work: Path, name: str, chat_replicas: int,
        gateways: int, load_args: list[str]) -> int:
    folder = work / name
    folder.mkdir()
    render(folder, profile(folder, name, chat_replicas, BENCH_ENV), images)
    deploy = Deployment(podman, folder, f"owui-bench-{name}", gateways=gateways)
    deploy.prepare(images["owui"])
    try:
        log(f"{name}: up in {deploy.up():.0f} s")
        command = [sys.executable, str(REPO / "bench/load.py"), *load_args,
                   "--podman-project", deploy.project]
        for url in deploy.urls:
            command += ["--gateway", url]
        return subprocess.run(command, env=podman.env, check=False).returncode
    finally:
        deploy.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="40")
    parser.add_argument("--seconds", default="60")
    parser.add_argument("--warmup", default="20")
    args = parser.parse_args()
    load_args = ["--users", args.users, "--seconds", args.seconds, "--warmup", args.warmup]
    with tempfile.TemporaryDirectory(prefix="owui-bench-compose-") as tmp:
        work = Path(tmp)
        podman = Podman.here(work / "podman")
        images = podman.images(work / "build")
        codes = [run(podman, images, work, "single", 1, 1, load_args),
                 run(podman, images, work, "replicas", 2, 2, load_args)]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
