"""`owui deploy`: --dry-run prints the manifests; a missing kubectl or docker is a clear error;
with the tool there, the rendered folder is what it is given."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from tests.deploy.conftest import run_cli


def test_dry_run_prints_the_manifests_but_no_secret() -> None:
    code, out, err = run_cli("deploy", "--target", "k8s", "--profile", "ha", "--dry-run")
    assert code == 0, err
    assert "# ---- 20-gateway.yaml" in out and "kind: HorizontalPodAutoscaler" in out
    assert "# (secret values not shown)" in out and "JWT_SECRET_KEY:" not in out
    documents = [d for d in yaml.safe_load_all(out) if d]
    assert {"Deployment", "StatefulSet", "NetworkPolicy", "Ingress"} <= {
        d["kind"] for d in documents}
    code, out, _ = run_cli("deploy", "--target", "compose", "--dry-run")
    assert code == 0 and "# ---- docker-compose.yml" in out


def test_missing_tool_is_a_clear_error(tmp_path: Path) -> None:
    for target, tool in (("k8s", "kubectl"), ("compose", "docker")):
        code, _, err = run_cli("deploy", "--target", target, env={"PATH": str(tmp_path)})
        assert code == 1
        assert f"{tool} is not installed or not on PATH" in err


def _fake_tool(folder: Path, name: str, log: Path) -> None:
    """A stand-in for kubectl/docker that records its arguments and the folder's files."""
    script = folder / name
    script.write_text("#!/bin/sh\n"
                      f'echo "$@" >> {log}\n'
                      'case "$*" in *"get secret"*) exit 1;; esac\n'
                      f'for a in "$@"; do case "$a" in /*) [ -d "$a" ] && ls -A "$a" >> {log};; '
                      'esac; done\n'
                      "exit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_applies_the_rendered_folder(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    for tool in ("kubectl", "docker"):
        _fake_tool(tmp_path, tool, log)
    env = {"PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    code, _, err = run_cli("deploy", "--target", "k8s", "--namespace", "ai", env=env)
    assert code == 0, err
    folder = tmp_path / "deployed"
    code, _, err = run_cli("deploy", "--target", "compose", "--dir", str(folder), env=env)
    assert code == 0, err
    calls = log.read_text()
    assert "--namespace ai get secret owui-secrets owui-database -o name" in calls
    assert "--namespace ai apply -f /" in calls and "00-secrets.yaml" in calls
    assert f"compose --project-directory {folder}" in calls and "up -d" in calls
    # The folder stays (the init SQL is bind-mounted from it); its secrets are kept next time.
    assert {".env", "docker-compose.yml", "postgres-initdb.sql"} <= {
        p.name for p in folder.iterdir()}
    secrets = (folder / ".env").read_text()
    code, out, err = run_cli("deploy", "--target", "compose", "--dir", str(folder), env=env)
    assert code == 0, err
    assert "keeping the existing secrets" in out and (folder / ".env").read_text() == secrets
