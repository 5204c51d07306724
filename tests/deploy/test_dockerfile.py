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
    # the uid the Kubernetes manifests run as
    assert any("--uid 10001" in arg for op, arg in final_stage() if op == "RUN")


def arguments() -> dict[str, str]:
    """ARG name to its default ('' when none)."""
    return {arg.split("=", 1)[0]: arg.split("=", 1)[1] if "=" in arg else ""
            for op, arg in instructions() if op == "ARG"}


def test_installs_the_package_from_a_wheel_on_any_base() -> None:
    steps = instructions()
    froms = [arg for op, arg in steps if op == "FROM"]
    # The base is a build argument (a private registry, a Debian made by debootstrap); its
    # default stays the official slim Python image.
    assert froms == ["${BASE} AS dependencies", "dependencies AS build", "${BASE}"]
    assert arguments()["BASE"].startswith("python:") and "slim" in arguments()["BASE"]
    runs = [arg for op, arg in steps if op == "RUN"]
    # The dependencies from pyproject.toml alone (a layer a source change reuses), in a venv
    # (a Debian Python is externally managed); then the wheel, installed without them.
    dependencies = next(arg for arg in runs if "requirements.txt" in arg)
    assert "python3 -m venv /opt/owui" in dependencies and "tomllib" in dependencies
    assert any("pip wheel" in arg and "--no-deps" in arg for arg in runs)
    assert any("/opt/owui/bin/pip install" in arg and "owui-*.whl" in arg for arg in runs)
    copied = [arg.split()[0] for op, arg in steps if op == "COPY" and "--from" not in arg]
    for source in copied:
        assert (REPO / source).exists(), source
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ignored[1] == "*" and {f"!{s.rstrip('/')}/" if (REPO / s).is_dir() else f"!{s}"
                                  for s in copied} <= set(ignored)


def test_the_package_index_is_a_build_argument_never_written_in() -> None:
    assert {"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"} <= set(arguments())
    assert arguments()["PIP_INDEX_URL"] == arguments()["PIP_EXTRA_INDEX_URL"] == ""
    text = "\n".join(arg for _, arg in instructions())
    assert "--index-url" not in text and "download.pytorch.org" not in text
    assert "VOLUME" not in dict(final_stage())  # no anonymous volumes left by `down -v`


def test_owui_image_build_passes_base_index_and_mounts(tmp_path: Path) -> None:
    from tests.deploy.conftest import run_cli

    code, out, err = run_cli("image", "build", "--dry-run", "--tool", "podman", "-t", "o:1",
                             "--base", "debian-python:12", "--extra-index-url",
                             "https://download.pytorch.org/whl/cpu", "--volume",
                             "/etc/pip.conf:/etc/pip.conf:ro", "--ulimit", "nofile=1024:1024")
    assert code == 0, err
    assert out.split()[1:] == [
        "build", "--tag", "o:1", "--file", str(REPO / "Dockerfile"),
        "--build-arg", "BASE=debian-python:12",
        "--build-arg", "PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu",
        "--volume", "/etc/pip.conf:/etc/pip.conf:ro", "--ulimit", "nofile=1024:1024",
        str(REPO)]
    code, _, err = run_cli("image", "build", "--dry-run", "--context", str(tmp_path))
    assert code == 1 and f"no Dockerfile in {tmp_path}" in err
    code, _, err = run_cli("image", "build", "--tool", "docker", "--volume", "/a:/a",
                           env={"PATH": str(tmp_path)})
    assert code == 1 and "docker is not installed or not on PATH" in err


def test_the_wheel_carries_the_profiles(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                           "--wheel-dir", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("owui-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"owui/profiles/local.yaml", "owui/profiles/server.yaml",
            "owui/profiles/ha.yaml", "owui/cli/manifests/k8s.py"} <= names
