"""The 0.12 web app's Knowledge, Files and Documents-settings calls against a real retrieval
service behind a real gateway (LanceDB, SQLite): uploads that join a collection through
`metadata.knowledge_id`, paged files with folders, pending files, reset, export, search, the
file content editor, the admin's settings applied at once, and the bad input the issue names
(another user's resource 404, wrong type, empty, too large, a collection the user cannot write,
paging out of range): a clear 4xx, nothing half-stored."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.retrieval.documents import HANDBOOK_MD, PDF_PAGES, make_pdf
from tests.support.permissions import grant_by_default
from tests.support.procs import start_service


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[str]:
    data = tmp_path_factory.mktemp("webapp-knowledge")
    logs = tmp_path_factory.mktemp("webapp-knowledge-logs")
    retrieval = start_service("retrieval", {
        "JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(data), "OWUI_LOG_FORMAT": "text",
        "RAG_FILE_MAX_SIZE": "1", "CHUNK_SIZE": "64", "CHUNK_OVERLAP": "8",
        "VECTOR_DB": "lancedb"}, logs)
    gate = start_service("gateway", {
        "JWT_SECRET_KEY": jwt_secret, "OWUI_DATA_DIR": str(data / "gateway"),
        "OWUI_LOG_FORMAT": "text", "RETRIEVAL_SERVICE_URL": retrieval.url,
        "RATE_LIMIT": "100000/minute", "SIGNIN_RATE_LIMIT": "100000/minute"}, logs)
    try:
        yield gate.url
    finally:
        gate.stop()
        retrieval.stop()


def _client(gateway: str) -> httpx.Client:
    account = signup(gateway, name="U", email=f"u-{uuid.uuid4().hex[:8]}@x.io")
    return httpx.Client(base_url=gateway, headers=bearer(account["token"]), timeout=120)


@pytest.fixture(scope="module")
def admin(gateway: str) -> Iterator[httpx.Client]:
    with _client(gateway) as client:  # the first account is the admin
        # the users here make collections and share them
        grant_by_default(client, "workspace.knowledge", "sharing.knowledge")
        yield client


@pytest.fixture(scope="module")
def alice(gateway: str, admin: httpx.Client) -> Iterator[httpx.Client]:
    with _client(gateway) as client:
        yield client


@pytest.fixture(scope="module")
def bob(gateway: str, admin: httpx.Client) -> Iterator[httpx.Client]:
    with _client(gateway) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.url, response.text)
    return response.json()


def create(client: httpx.Client, name: str) -> dict[str, Any]:
    return ok(client.post("/api/v1/knowledge/create", json={"name": name, "description": ""}))


def upload(client: httpx.Client, name: str, body: bytes, **metadata: Any) -> httpx.Response:
    form = {"metadata": json.dumps(metadata)} if metadata else None
    return client.post("/api/v1/files/", files={"file": (name, body)}, data=form)


def wait_linked(client: httpx.Client, knowledge_id: str, count: int) -> dict[str, Any]:
    """The collection's files once `count` are in and none is pending (the stream ends)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with client.stream("GET", f"/api/v1/knowledge/{knowledge_id}/files/pending",
                           params={"stream": "true"}) as stream:
            events = [json.loads(line[6:]) for line in stream.iter_lines()
                      if line.startswith("data: ")]
        assert events and events[-1] == []
        files = ok(client.get(f"/api/v1/knowledge/{knowledge_id}/files"))
        if files["total"] >= count:
            return files
        time.sleep(0.3)
    raise AssertionError(f"{knowledge_id} never held {count} files")


def test_upload_with_knowledge_id_joins_the_collection(alice: httpx.Client) -> None:
    knowledge = create(alice, "Handbooks")
    folder = ok(alice.post(f"/api/v1/knowledge/{knowledge['id']}/dirs/create",
                           json={"name": "policies"}))
    first = ok(upload(alice, "handbook.md", HANDBOOK_MD.encode(), knowledge_id=knowledge["id"]))
    second = ok(upload(alice, "reactor.pdf", make_pdf(PDF_PAGES),
                       knowledge_id=knowledge["id"], directory_id=folder["id"]))
    files = wait_linked(alice, knowledge["id"], 2)
    assert {f["id"] for f in files["items"]} == {first["id"], second["id"]}
    by_id = {f["id"]: f for f in files["items"]}
    assert by_id[second["id"]]["directory_path"] == "policies"
    listed = ok(alice.get("/api/v1/knowledge/search", params={"query": "handbook"}))
    assert [k["file_count"] for k in listed["items"]] == [2]
    top = ok(alice.get(f"/api/v1/knowledge/{knowledge['id']}/files",
                       params={"directory_id": ""}))
    assert [f["id"] for f in top["items"]] == [first["id"]]
    assert [d["name"] for d in top["directories"]] == ["policies"]
    inside = ok(alice.get(f"/api/v1/knowledge/{knowledge['id']}/files",
                          params={"directory_id": folder["id"]}))
    assert [b["id"] for b in inside["breadcrumbs"]] == [folder["id"]]
    found = ok(alice.post("/api/v1/retrieval/query/collection", json={
        "collection_names": [knowledge["id"]], "query": "How many days of holiday?"}))
    assert any("twenty-eight" in d for d in found["documents"][0])


def test_directories_rename_move_delete(alice: httpx.Client) -> None:
    knowledge = create(alice, "Folders")
    base = f"/api/v1/knowledge/{knowledge['id']}"
    a = ok(alice.post(f"{base}/dirs/create", json={"name": "a"}))
    b = ok(alice.post(f"{base}/dirs/create", json={"name": "b", "parent_id": a["id"]}))
    assert alice.post(f"{base}/dirs/create", json={"name": "A"}).status_code == 400
    assert alice.post(f"{base}/dirs/{a['id']}/update",
                      json={"parent_id": b["id"]}).status_code == 400  # into its own child
    renamed = ok(alice.post(f"{base}/dirs/{b['id']}/update", json={"name": "bee"}))
    assert renamed["name"] == "bee" and renamed["parent_id"] == a["id"]
    moved = ok(alice.post(f"{base}/dirs/{b['id']}/update", json={"parent_id": None}))
    assert moved["parent_id"] is None
    file = ok(upload(alice, "notes.txt", b"Folders hold files.", knowledge_id=knowledge["id"],
                     directory_id=b["id"]))
    wait_linked(alice, knowledge["id"], 1)
    ok(alice.post(f"{base}/file/move", json={"file_id": file["id"], "directory_id": a["id"]}))
    gone = ok(alice.delete(f"{base}/dirs/{a['id']}/delete"))
    assert gone["file_ids"] == [file["id"]]
    files = ok(alice.get(f"{base}/files"))
    assert files["items"][0]["directory_id"] is None  # moved up to the top
    assert alice.delete(f"{base}/dirs/{a['id']}/delete").status_code == 404


def test_reset_export_and_file_update(alice: httpx.Client, admin: httpx.Client) -> None:
    knowledge = create(alice, "Resettable")
    file = ok(upload(alice, "facts.txt", b"The sky is green here.",
                     knowledge_id=knowledge["id"]))
    wait_linked(alice, knowledge["id"], 1)
    content = ok(alice.get(f"/api/v1/files/{file['id']}/data/content"))
    assert "green" in content["content"]
    ok(alice.post(f"/api/v1/files/{file['id']}/data/content/update",
                  json={"content": "The sky is purple here."}))
    ok(alice.post(f"/api/v1/knowledge/{knowledge['id']}/file/update",
                  json={"file_id": file["id"]}))
    hits = ok(alice.post("/api/v1/retrieval/query/collection", json={
        "collection_names": [knowledge["id"]], "query": "sky colour"}))
    assert hits["documents"][0] == ["The sky is purple here."]
    assert alice.get(f"/api/v1/knowledge/{knowledge['id']}/export").status_code == 403
    exported = admin.get(f"/api/v1/knowledge/{knowledge['id']}/export")
    assert exported.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(exported.content)).namelist()
    assert names == ["facts.txt"]
    reset = ok(alice.post(f"/api/v1/knowledge/{knowledge['id']}/reset"))
    assert reset["files"] == []
    assert alice.get(f"/api/v1/files/{file['id']}").status_code == 404  # hers: deleted


def test_files_search_count_rename_and_html(alice: httpx.Client, admin: httpx.Client) -> None:
    name = f"report-{uuid.uuid4().hex[:6]}.md"
    file = ok(upload(alice, name, b"# Report\n\nQuarterly numbers."))
    before = ok(alice.get("/api/v1/files/user/count"))
    assert ok(alice.get("/api/v1/files/count")) == before >= 1
    found = ok(alice.get("/api/v1/files/search", params={"filename": "report-*.md"}))
    assert [f["id"] for f in found] == [file["id"]]
    assert alice.get("/api/v1/files/search", params={"filename": "nothing*"}).status_code == 404
    renamed = ok(alice.post(f"/api/v1/files/{file['id']}/rename",
                            json={"filename": "summary.md"}))
    assert renamed["filename"] == "summary.md"
    assert alice.get(f"/api/v1/files/{file['id']}/content/html").status_code == 403
    page = ok(admin.post("/api/v1/files/", files={"file": ("page.html", b"<p>hi</p>")}))
    html = admin.get(f"/api/v1/files/{page['id']}/content/html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    named = admin.get(f"/api/v1/files/{page['id']}/content/any-name.html")
    assert named.content == b"<p>hi</p>"


def test_another_users_resources_are_not_found(alice: httpx.Client, bob: httpx.Client) -> None:
    knowledge = create(alice, "Private")
    file = ok(upload(alice, "secret.txt", b"private words"))
    base = f"/api/v1/knowledge/{knowledge['id']}"
    for call in (lambda: bob.get(f"{base}/files"), lambda: bob.get(f"{base}/files/pending"),
                 lambda: bob.post(f"{base}/reset"),
                 lambda: bob.post(f"{base}/dirs/create", json={"name": "x"}),
                 lambda: bob.get(f"/api/v1/files/{file['id']}/data/content"),
                 lambda: bob.post(f"/api/v1/files/{file['id']}/rename", json={"filename": "x"}),
                 lambda: bob.get(f"/api/v1/files/{file['id']}/content/x.txt")):
        assert call().status_code == 404
    assert file["id"] not in {f["id"] for f in ok(bob.get("/api/v1/files/user/search"))}
    assert ok(bob.get("/api/v1/knowledge/search"))["total"] == 0


def test_bad_uploads_store_nothing(alice: httpx.Client, bob: httpx.Client) -> None:
    knowledge = create(alice, "Guarded")
    before = ok(bob.get("/api/v1/files/user/count"))
    assert upload(bob, "x.txt", b"words", knowledge_id=knowledge["id"]).status_code == 404
    ok(alice.post(f"/api/v1/knowledge/{knowledge['id']}/access/update", json={
        "access_grants": [{"principal_type": "user", "principal_id": _me(bob),
                           "permission": "read"}]}))
    assert upload(bob, "x.txt", b"words", knowledge_id=knowledge["id"]).status_code == 403
    assert upload(bob, "x.txt", b"words", knowledge_id=knowledge["id"],
                  directory_id="nope").status_code == 403
    assert upload(bob, "x.exe", b"MZ", knowledge_id=knowledge["id"]).status_code == 415
    assert upload(bob, "empty.txt", b"").status_code == 400
    assert upload(bob, "big.txt", b"a" * (1024 * 1024 + 1)).status_code == 413
    assert upload(bob, "x.txt", b"words", knowledge_id=7).status_code == 400
    assert ok(bob.get("/api/v1/files/user/count")) == before


def _me(client: httpx.Client) -> str:
    return str(ok(client.get("/api/v1/auths/"))["id"])


def test_paging_and_bad_forms_are_clear(alice: httpx.Client) -> None:
    knowledge = create(alice, "Paging")
    base = f"/api/v1/knowledge/{knowledge['id']}"
    assert ok(alice.get(f"{base}/files", params={"page": 99}))["items"] == []
    for bad in ({"page": 0}, {"page": "x"}, {"page": 10**9}):
        assert alice.get("/api/v1/knowledge/search", params=bad).status_code == 422
    assert alice.get(f"{base}/files", params={"directory_id": "nope"}).status_code == 404
    assert alice.post(f"{base}/dirs/create", json={"name": "a/b"}).status_code == 422
    assert alice.post(f"{base}/dirs/create", json={"name": ""}).status_code == 422
    assert alice.post(f"{base}/files/batch/add", json=[]).status_code == 422
    assert alice.post(f"{base}/file/move", json={"file_id": "nope"}).status_code == 404
    assert alice.post("/api/v1/files/nope/rename", json={"filename": " "}).status_code == 422


def test_settings_are_admin_only_and_apply_at_once(admin: httpx.Client,
                                                   alice: httpx.Client) -> None:
    for path in ("/api/v1/retrieval/config", "/api/v1/retrieval/embedding"):
        assert alice.get(path).status_code == 403
    assert alice.post("/api/v1/retrieval/config/update", json={"TOP_K": 1}).status_code == 403
    config = ok(admin.get("/api/v1/retrieval/config"))
    assert config["CHUNK_SIZE"] == 64 and "web" in config
    changed = ok(admin.post("/api/v1/retrieval/config/update", json={
        **config, "TOP_K": 2, "web": {**config["web"], "WEB_SEARCH_RESULT_COUNT": 4}}))
    assert changed["TOP_K"] == 2 and changed["web"]["WEB_SEARCH_RESULT_COUNT"] == 4
    for bad in ({"TOP_K": "many"}, {"CHUNK_OVERLAP": 64}, {"RAG_FULL_CONTEXT": "yes"}):
        assert admin.post("/api/v1/retrieval/config/update", json=bad).status_code == 400
    assert ok(admin.get("/api/v1/retrieval/config"))["TOP_K"] == 2  # nothing half-applied
    knowledge = create(alice, "TopK")
    ok(upload(alice, "many.md", "\n\n".join(f"## Part {i}\n\nFact number {i} about owls."
                                             for i in range(12)).encode(),
              knowledge_id=knowledge["id"]))
    wait_linked(alice, knowledge["id"], 1)
    hits = ok(alice.post("/api/v1/retrieval/query/collection", json={
        "collection_names": [knowledge["id"]], "query": "owls"}))
    assert len(hits["documents"][0]) == 2
    embedding = ok(admin.get("/api/v1/retrieval/embedding"))
    assert embedding["RAG_EMBEDDING_ENGINE"] == ""
    assert admin.post("/api/v1/retrieval/embedding/update", json={
        "RAG_EMBEDDING_ENGINE": "azure_openai", "RAG_EMBEDDING_MODEL": "x"}).status_code == 400
    ok(admin.post("/api/v1/retrieval/config/update", json={"TOP_K": 5}))


def test_reindex_is_admin_only(admin: httpx.Client, alice: httpx.Client) -> None:
    assert alice.post("/api/v1/knowledge/reindex").status_code == 403
    assert ok(admin.post("/api/v1/knowledge/reindex")) is True


def test_search_files_across_collections(alice: httpx.Client, bob: httpx.Client) -> None:
    knowledge = create(alice, "Searchable")
    word = uuid.uuid4().hex[:8]
    ok(upload(alice, f"{word}.txt", b"findable", knowledge_id=knowledge["id"]))
    wait_linked(alice, knowledge["id"], 1)
    found = ok(alice.get("/api/v1/knowledge/search/files", params={"query": word}))
    assert [f["filename"] for f in found["items"]] == [f"{word}.txt"]
    assert ok(bob.get("/api/v1/knowledge/search/files", params={"query": word}))["total"] == 0


def test_process_file_batch_delete_and_sync(alice: httpx.Client, bob: httpx.Client) -> None:
    knowledge = create(alice, "Processing")
    file = ok(alice.post("/api/v1/files/", params={"process": "false"},
                         files={"file": ("later.txt", b"Processed on request.")}))
    done = ok(alice.post("/api/v1/retrieval/process/file", json={
        "file_id": file["id"], "collection_name": knowledge["id"]}))
    assert done["collection_name"] == knowledge["id"] and "request" in done["content"]
    assert bob.post("/api/v1/retrieval/process/file",
                    json={"file_id": file["id"]}).status_code == 404
    other = ok(upload(alice, "second.txt", b"Second file."))
    batch = ok(alice.post("/api/v1/retrieval/process/files/batch", json={
        "collection_name": knowledge["id"], "files": [{"id": other["id"]}, {"id": "nope"}]}))
    assert [r["file_id"] for r in batch["results"]] == [other["id"]]
    assert [e["file_id"] for e in batch["errors"]] == ["nope"]
    assert ok(alice.get(f"/api/v1/knowledge/{knowledge['id']}/files"))["total"] == 2
    assert ok(alice.post("/api/v1/retrieval/delete", json={
        "collection_name": knowledge["id"], "file_id": other["id"]}))["status"] is True
    diff = ok(alice.post(f"/api/v1/knowledge/{knowledge['id']}/sync/diff", json={"manifest": [
        {"filename": "later.txt", "path": "", "checksum": file["hash"], "size": 21},
        {"filename": "new.txt", "path": "docs/api", "checksum": "x", "size": 1}]}))
    assert diff["added"] == [{"filename": "new.txt", "path": "docs/api"}]
    assert diff["deleted"] == [{"file_id": other["id"], "filename": "second.txt"}]
    assert diff["mkdir"] == ["docs", "docs/api"] and diff["unmodified_count"] == 1
    ok(alice.post(f"/api/v1/knowledge/{knowledge['id']}/sync/cleanup",
                  json={"file_ids": [other["id"]]}))
    assert ok(alice.get(f"/api/v1/knowledge/{knowledge['id']}/files"))["total"] == 1
    assert alice.get(f"/api/v1/files/{other['id']}").status_code == 404


def test_process_web_refuses_what_it_cannot_read(alice: httpx.Client) -> None:
    for url in ("ftp://example.com/x", "http://127.0.0.1:9/page", "not a url"):
        answer = alice.post("/api/v1/retrieval/process/web", json={"url": url})
        assert answer.status_code == 400, answer.text
        assert "Could not read content" in answer.json()["detail"]


def test_resets_are_admin_only(alice: httpx.Client) -> None:
    for path in ("/api/v1/retrieval/reset/db", "/api/v1/retrieval/reset/uploads"):
        assert alice.post(path).status_code == 403
    assert alice.delete("/api/v1/files/all").status_code == 403


def test_a_collection_shared_with_a_group(admin: httpx.Client, alice: httpx.Client,
                                          bob: httpx.Client) -> None:
    """The admin shares a collection with a group: read for its members while they are
    members, never write. A user may name only a group of their own."""
    group = ok(admin.post("/api/v1/groups/create", json={"name": f"g-{uuid.uuid4().hex[:6]}",
                                                         "description": ""}))
    assert alice.post("/api/v1/knowledge/create", json={
        "name": "x", "description": "", "access_grants": [
            {"principal_type": "group", "principal_id": group["id"], "permission": "read"}]}
                      ).status_code == 422
    knowledge = create(admin, "For the group")
    ok(admin.post(f"/api/v1/knowledge/{knowledge['id']}/access/update", json={
        "access_grants": [{"principal_type": "group", "principal_id": group["id"],
                           "permission": "read"}]}))
    base = f"/api/v1/knowledge/{knowledge['id']}"
    assert bob.get(base).status_code == 404
    ok(admin.post(f"/api/v1/groups/id/{group['id']}/users/add", json={"user_ids": [_me(bob)]}))
    _until(lambda: bob.get(base).status_code == 200)
    assert ok(bob.get(base))["write_access"] is False
    assert knowledge["id"] in {k["id"] for k in ok(bob.get("/api/v1/knowledge/search"))["items"]}
    assert bob.post(f"{base}/dirs/create", json={"name": "x"}).status_code == 403
    ok(admin.post(f"/api/v1/groups/id/{group['id']}/users/remove",
                  json={"user_ids": [_me(bob)]}))
    _until(lambda: bob.get(base).status_code == 404)


def _until(check: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the group change did not apply in time"
        time.sleep(0.3)

def test_admin_resets_last(admin: httpx.Client, alice: httpx.Client) -> None:
    """Last in the module: they empty the whole service."""
    knowledge = create(alice, "Doomed")
    ok(upload(alice, "doomed.txt", b"Soon gone.", knowledge_id=knowledge["id"]))
    wait_linked(alice, knowledge["id"], 1)
    assert ok(admin.post("/api/v1/retrieval/reset/db"))["status"] is True
    assert ok(alice.get("/api/v1/knowledge/"))["total"] == 0
    assert ok(alice.get("/api/v1/files/user/count")) > 0  # files stay, unprocessed
    assert ok(admin.post("/api/v1/retrieval/reset/uploads")) is True
    assert ok(admin.get("/api/v1/files/count")) == 0


def test_external_connections_admin_only(admin: httpx.Client, alice: httpx.Client) -> None:
    base = "/api/v1/knowledge/external/connections"
    assert alice.get(base).status_code == 403
    form = {"name": "Archive", "provider": "Qdrant", "endpoint": "http://qdrant.internal:6333",
            "auth_config": {"api_key": "secret"}}
    made = ok(admin.post(base, json=form))
    assert made["provider"] == "qdrant" and made["auth_configured"] is True
    assert "auth_config" not in made and "secret" not in json.dumps(ok(admin.get(base)))
    changed = ok(admin.patch(f"{base}/{made['id']}", json={**form, "name": "Old archive",
                                                           "auth_config": None}))
    assert changed["name"] == "Old archive" and changed["auth_configured"] is True  # kept
    health = ok(admin.post(f"{base}/{made['id']}/test"))
    assert health["ok"] is True
    assert ok(admin.get(f"{base}/{made['id']}"))["health"] == health
    for bad in ({**form, "provider": "faiss"}, {**form, "endpoint": " "}, {**form, "name": ""}):
        assert admin.post(base, json=bad).status_code == 400
    assert ok(admin.delete(f"{base}/{made['id']}")) is True
    assert admin.get(f"{base}/{made['id']}").status_code == 404
    assert ok(admin.get("/api/v1/retrieval/config")).get("EXTERNAL_KNOWLEDGE_CONNECTIONS") is None
