"""The Dockerfile, checked without a Docker engine: parsed, and its build step (the wheel)
run for real, since that is where a missing file would break the image."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.deploy.conftest import REPO


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in lines if line and not line.startswith("#")]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_runs_owui_serve_as_a_non_root_user() -> None:
    stage = dict(final_stage())
    user = stage["USER"]
    assert user not in {"root", "0"} and not user.startswith("0:")
    assert json.loads(stage["ENTRYPOINT"]) == ["owui"]
    assert json.loads(stage["CMD"])[:2] == ["serve", "gateway"]
    ops = [op for op, _ in final_stage()]
    assert ops.index("USER") < ops.index("ENTRYPOINT")
    assert "--uid 10001" in stage["RUN"]  # the uid the Kubernetes manifests run as


def test_installs_the_package_from_a_wheel_in_a_slim_two_stage_build() -> None:
    steps = instructions()
    froms = [arg for op, arg in steps if op == "FROM"]
    assert len(froms) == 2 and all("slim" in image for image in froms)
    build_run = next(arg for op, arg in steps if op == "RUN" and "build --wheel" in arg)
    assert "pip install" in build_run and "owui-*.whl" in build_run
    assert "download.pytorch.org/whl/cpu" in build_run  # no CUDA wheels in the image
    copied = [arg.split()[0] for op, arg in steps if op == "COPY" and "--from" not in arg]
    for source in copied:
        assert (REPO / source).exists(), source
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ignored[1] == "*" and {f"!{s.rstrip('/')}/" if (REPO / s).is_dir() else f"!{s}"
                                  for s in copied} <= set(ignored)


def test_the_wheel_carries_the_profiles(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                           "--wheel-dir", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("owui-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"owui/profiles/local.yaml", "owui/profiles/server.yaml",
            "owui/profiles/ha.yaml", "owui/cli/manifests/k8s.py"} <= names
