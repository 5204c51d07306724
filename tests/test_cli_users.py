"""`owui users create --admin`: headless set-up, then sign in through a gateway."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx


def _owui(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "owui", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)


def test_create_admin_then_sign_in(make_gateway, tmp_path) -> None:
    data = tmp_path / "headless"
    made = _owui("users", "create", "--admin", "--email", "Ops@Example.com", "--name", "Ops",
                 "--data-dir", str(data), OWUI_PASSWORD="long-enough-pw")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("Created admin ops@example.com")
    again = _owui("users", "create", "--email", "ops@example.com", "--data-dir", str(data),
                  OWUI_PASSWORD="long-enough-pw")
    assert again.returncode != 0 and "already exists" in again.stderr
    listed = _owui("users", "list", "--data-dir", str(data))
    assert "ops@example.com" in listed.stdout and "admin" in listed.stdout

    gateway = make_gateway(data_dir=data).url
    session = httpx.post(f"{gateway}/api/v1/auths/signin",
                         json={"email": "ops@example.com", "password": "long-enough-pw"})
    assert session.status_code == 200 and session.json()["role"] == "admin"
