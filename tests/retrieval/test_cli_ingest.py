"""`owui ingest` against the gateway, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.retrieval.conftest import Deployment
from tests.retrieval.documents import HANDBOOK_MD
from tests.support.permissions import grant_to_group
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


@pytest.mark.parametrize("deployment", ["lancedb"], indirect=True)
def test_a_user_without_workspace_knowledge_is_told_what_the_admin_should_do(
        deployment: Deployment, tmp_path: Path) -> None:
    """Open WebUI's defaults let a plain user make no collection: refused with 403 naming the
    permission (through the gateway, and straight at retrieval, where no header can vouch for
    it); `owui ingest` says so and who fixes it, before uploading anything. Once the admin puts
    the user in a group holding it, the same run works."""
    carol = signup(deployment.gateway, name="Carol", email=f"carol-{uuid.uuid4().hex[:6]}@x.io")
    token = str(carol["token"])
    note = tmp_path / "note.md"
    note.write_text("# Ferry\n\nThe ferry leaves at nine.\n")
    args = [str(note), "-c", "Carol's notes", "--url", deployment.gateway]
    refused = _ingest(args, {"OWUI_TOKEN": token})
    said = " ".join(refused.stderr.split())  # the console wraps long lines
    assert refused.returncode == 1, said
    assert "'workspace.knowledge' permission" in said and "Admin Panel > Users > Groups" in said
    assert "Nothing was uploaded" in said
    form = {"name": "Carol's notes", "description": ""}
    with httpx.Client(base_url=deployment.gateway, headers=bearer(token), timeout=60) as client:
        assert client.get("/api/v1/files/").json()["total"] == 0
        assert client.get("/api/v1/knowledge/").json()["total"] == 0
        through = client.post("/api/v1/knowledge/create", json=form)
    straight = httpx.post(f"{deployment.retrieval.url}/api/v1/knowledge/create", json=form,
                          headers=bearer(token), timeout=60)
    for answer in (through, straight):
        assert answer.status_code == 403 and "'workspace.knowledge'" in answer.json()["detail"]

    with deployment.client("admin") as admin:
        grant_to_group(admin, f"Carol's makers {uuid.uuid4().hex[:6]}", [str(carol["id"])],
                       "workspace.knowledge")
    allowed = _ingest(args, {"OWUI_TOKEN": token})
    assert allowed.returncode == 0, allowed.stderr
    assert "1 of 1 files" in allowed.stderr
