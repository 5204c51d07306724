"""`owui ingest` through the gateway of a real stack meets no limit with the default limits, and
waits out a 429 as its Retry-After says when a limit is tight."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from owui.core.config import Settings
from tests.conftest import bearer, signup
from tests.support.fullstack import FullStack, full_stack

LIMITS = ("rate_limit", "model_rate_limit", "upload_rate_limit", "search_rate_limit",
          "signin_rate_limit", "signin_account_rate_limit")
# The settings' own defaults, over the unlimited ones the full stack gives its tests.
DEFAULT_LIMITS = {name.upper(): str(Settings.model_fields[name].default) for name in LIMITS}


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullStack]:
    root = tmp_path_factory.mktemp("ingest-limits")
    with full_stack(secrets.token_urlsafe(32), root / "data", root / "logs",
                    **DEFAULT_LIMITS) as stack:
        yield stack


def _folder(root: Path, count: int) -> Path:
    folder = root / "notes"
    folder.mkdir()
    for index in range(count):
        (folder / f"note-{index:03}.md").write_text(
            f"# Note {index}\n\nHarbour log entry {index}: the ferry left at {index % 24}:00.\n")
    return folder


def _ingest(folder: Path, gateway: str, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "owui", "ingest", str(folder), "--collection", "notes",
         "--url", gateway], capture_output=True, text=True, timeout=900,
        env={**os.environ, "COLUMNS": "120", "OWUI_TOKEN": token})


def test_ingest_of_300_files_with_default_limits_exits_0(defaults: FullStack,
                                                        tmp_path: Path) -> None:
    token = str(signup(defaults.gateway)["token"])
    done = _ingest(_folder(tmp_path, 300), defaults.gateway, token)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "300 of 300 files" in done.stderr
    listed = httpx.get(f"{defaults.gateway}/api/v1/knowledge/", headers=bearer(token)).json()
    (notes,) = [k for k in listed["items"] if k["name"] == "notes"]
    assert notes["file_count"] == 300


def test_a_person_reading_fast_meets_no_limit(defaults: FullStack) -> None:
    """A page load's reads and a progress bar's polling are not what the limits count."""
    token = str(signup(defaults.gateway)["token"])
    with httpx.Client(base_url=defaults.gateway, headers=bearer(token)) as client:
        statuses = {client.get(path).status_code for _ in range(150)
                    for path in ("/api/v1/auths/", "/api/v1/chats/", "/api/v1/knowledge/")}
    assert statuses == {200}


def test_ingest_waits_out_a_tight_upload_limit(tmp_path: Path) -> None:
    with full_stack(secrets.token_urlsafe(32), tmp_path / "data", tmp_path / "logs",
                    UPLOAD_RATE_LIMIT="3/4 seconds") as stack:
        token = str(signup(stack.gateway)["token"])
        began = time.monotonic()
        done = _ingest(_folder(tmp_path, 8), stack.gateway, token)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "8 of 8 files" in done.stderr
        # Eight uploads at three per four seconds: the client waited at least twice.
        assert time.monotonic() - began >= 4
