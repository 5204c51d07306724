"""bench/load.py, a few users for a few seconds: it starts its stack, runs every kind of
request, reports, and finds no errors (the full run is by hand: see the script)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.procs import REPO


@pytest.mark.timeout(400)
def test_load_script_runs_and_finds_no_errors() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "load.py"), "--users", "4",
                           "--seconds", "12", "--warmup", "4", "--think", "0.3"],
                          capture_output=True, text=True, timeout=360, cwd=REPO)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    for line in ("requests/s after warm-up", "errors: none", "list chats", "open chat",
                 "turn (streamed to the end)", "Memory per service"):
        assert line in done.stdout, done.stdout
