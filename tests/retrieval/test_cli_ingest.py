"""`owui ingest` against the gateway, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.retrieval.conftest import Deployment
from tests.retrieval.documents import HANDBOOK_MD
from tests.support.procs import closed_port


def _ingest(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "owui", "ingest", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "120", **env})


@pytest.mark.parametrize("deployment", ["lancedb"], indirect=True)
def test_ingest_a_folder_into_a_collection(deployment: Deployment, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "handbook.md").write_text(HANDBOOK_MD)
    (docs / "sub" / "faq.txt").write_text("Q: Where is the printer? A: Second floor, room 12.")
    (docs / "sub" / "broken.json").write_text("{oops")
    (docs / "tool.exe").write_bytes(b"MZ")  # not a supported type: left out
    (docs / ".hidden.md").write_text("# hidden")
    token = str(deployment.users["alice"]["token"])

    done = _ingest([str(docs), "--collection", "Company docs", "--url", deployment.gateway],
                   {"OWUI_TOKEN": token})
    assert done.returncode == 1, done.stderr  # one file failed
    assert "2 of 3 files" in done.stderr and "Company docs" in done.stderr
    assert "broken.json" in done.stderr and "malformed" in done.stderr

    with deployment.client("alice") as alice:
        listed = alice.get("/api/v1/knowledge/").json()["items"]
        (knowledge,) = [k for k in listed if k["name"] == "Company docs"]
        assert knowledge["file_count"] == 2
        found = alice.post("/api/v1/retrieval/query/collection", json={
            "collection_names": [knowledge["id"]], "query": "where is the printer", "k": 1})
        assert "room 12" in found.json()["documents"][0][0]

    again = _ingest([str(docs / "handbook.md"), "-c", "Company docs", "--url",
                     deployment.gateway], {"OWUI_TOKEN": token})
    assert again.returncode == 0, again.stderr  # the same collection, found by name
    with deployment.client("alice") as alice:
        names = [k["name"] for k in alice.get("/api/v1/knowledge/").json()["items"]]
        assert names.count("Company docs") == 1


def test_ingest_refuses_without_token_or_files(tmp_path: Path) -> None:
    env = {"OWUI_TOKEN": ""}
    assert _ingest([str(tmp_path), "-c", "x"], env).returncode == 2
    missing = _ingest([str(tmp_path / "nope"), "-c", "x"], {"OWUI_TOKEN": "t"})
    assert missing.returncode == 1 and "no such file or folder" in missing.stderr
    note = tmp_path / "note.md"
    note.write_text("# Note")
    down = _ingest([str(note), "-c", "x", "--url", f"http://127.0.0.1:{closed_port()}"],
                   {"OWUI_TOKEN": "t"})
    assert down.returncode == 1 and "owui:" in down.stderr, down.stderr
