"""Render helpers for the deployment tests: the CLI in-process, manifests parsed back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from owui.cli.main import app

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def k8s_objects(folder: Path) -> list[dict]:
    return [doc for path in sorted(folder.glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each shipped server-side profile rendered once per target, with secrets."""
    out: dict[tuple[str, str], Path] = {}
    for profile in ("server", "ha"):
        for target in ("k8s", "compose"):
            folder = tmp_path_factory.mktemp(f"{target}-{profile}")
            code, _, err = run_cli("render", target, "--profile", profile, "-o", str(folder))
            assert code == 0, err
            out[target, profile] = folder
    return out
