"""The files API through the gateway, on both stores: upload, status, content, delete, and
every kind of bad upload answered with a clear error."""

from __future__ import annotations

import hashlib

import httpx

from tests.retrieval.conftest import Deployment, upload, wait_processed
from tests.retrieval.documents import HANDBOOK_MD, PDF_PAGES, make_docx, make_pdf


def _search(client: httpx.Client, file_id: str, query: str) -> list[dict]:
    response = client.post("/api/v1/retrieval/search",
                           json={"query": query, "file_ids": [file_id], "k": 3})
    assert response.status_code == 200, response.text
    return response.json()["hits"]


def test_upload_markdown_is_stored_hashed_and_indexed(alice: httpx.Client) -> None:
    body = HANDBOOK_MD.encode()
    file = upload(alice, "handbook.md", body)
    assert file["status"]["status"] == "completed", file
    assert file["hash"] == hashlib.sha256(body).hexdigest()
    assert file["meta"]["size"] == len(body) and file["meta"]["name"] == "handbook.md"
    assert file["status"]["job"]["status"] == "completed"
    assert file["status"]["job"]["done"] == file["status"]["job"]["total"] > 0

    got = alice.get(f"/api/v1/files/{file['id']}").json()
    assert "twenty-eight days" in got["data"]["content"]
    content = alice.get(f"/api/v1/files/{file['id']}/content")
    assert content.status_code == 200 and content.content == body
    assert "attachment" in alice.get(f"/api/v1/files/{file['id']}/content",
                                     params={"attachment": True}).headers["content-disposition"]
    listed = alice.get("/api/v1/files/").json()
    assert file["id"] in [item["id"] for item in listed["items"]] and listed["total"] >= 1

    hits = _search(alice, file["id"], "how many holiday days do I get")
    assert "twenty-eight days" in hits[0]["text"]
    assert hits[0]["section"] == "Employee handbook > Holidays"
    assert hits[0]["name"] == "handbook.md"


def test_pdf_pages_and_docx_sections_are_kept(alice: httpx.Client) -> None:
    pdf = upload(alice, "reactor.pdf", make_pdf(PDF_PAGES))
    assert pdf["status"]["status"] == "completed", pdf
    hits = _search(alice, pdf["id"], "what cooling does the reactor use")
    assert "molten salt" in hits[0]["text"] and hits[0]["page"] == 2

    docx = upload(alice, "plan.docx", make_docx("Garden plan", [
        "Tomatoes go by the south wall.", "Beans climb the fence."]))
    assert docx["status"]["status"] == "completed", docx
    hits = _search(alice, docx["id"], "where do the tomatoes go")
    assert "south wall" in hits[0]["text"] and hits[0]["section"] == "Garden plan"


def test_client_file_names_never_choose_a_path(alice: httpx.Client) -> None:
    file = upload(alice, "../../../etc/evil.md", b"# Evil\nnothing here", process=False)
    assert file["filename"] == "evil.md"
    content = alice.get(f"/api/v1/files/{file['id']}/content")
    assert content.content == b"# Evil\nnothing here"


def test_bad_uploads_get_clear_errors(alice: httpx.Client) -> None:
    cases = [
        (("empty.txt", b""), 400, "empty"),
        (("tool.exe", b"MZ\x90\x00"), 415, "Unsupported file type"),
        (("fake.pdf", b"this is not a pdf at all"), 415, "not a PDF"),
        (("fake.docx", b"plain text"), 415, "not a Word document"),
        (("binary.txt", b"abc\x00\x01\x02"), 415, "binary"),
        (("big.txt", b"a" * (1024 * 1024 + 10)), 413, "limit"),
    ]
    for (name, body), status, words in cases:
        response = alice.post("/api/v1/files/", files={"file": (name, body)})
        assert response.status_code == status, (name, response.text)
        assert words in response.json()["detail"], (name, response.text)
    response = alice.post("/api/v1/files/", data={"other": "x"}, files={"x": ("a.txt", b"1")})
    assert response.status_code == 400 and "'file'" in response.json()["detail"]
    response = alice.post("/api/v1/files/", content=b"{}",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_failed_ingestion_says_why_and_leaves_nothing(alice: httpx.Client) -> None:
    for name, body, reason in [
        ("scan.pdf", make_pdf(["", ""]), "no extractable text"),
        ("broken.pdf", b"%PDF-1.4\n" + b"garbage " * 50, "corrupt"),
        ("broken.json", b'{"a": [1, 2', "malformed"),
        ("broken.docx", b"PK\x03\x04" + b"\x00" * 100, "corrupt"),
    ]:
        file = upload(alice, name, body)
        status = file["status"]
        assert status["status"] == "failed" and reason in status["error"], (name, status)
        assert status["job"]["status"] == "failed" and reason in status["job"]["error"]
        assert _search(alice, file["id"], "anything at all") == []


def test_process_in_foreground_reports_failure(alice: httpx.Client) -> None:
    response = alice.post("/api/v1/files/", params={"process_in_background": False},
                          files={"file": ("empty-pages.pdf", make_pdf([""]))})
    assert response.status_code == 422 and "no extractable text" in response.json()["detail"]
    done = alice.post("/api/v1/files/", params={"process_in_background": False},
                      files={"file": ("note.txt", b"The spare key is under the blue pot.")})
    assert done.status_code == 200 and done.json()["data"]["status"] == "completed"


def test_other_users_files_are_not_found(alice: httpx.Client, bob: httpx.Client,
                                         deployment: Deployment) -> None:
    file = upload(alice, "private.txt", b"Alice's secret recipe uses cardamom.")
    for method, path in [("GET", ""), ("GET", "/content"), ("GET", "/process/status"),
                         ("DELETE", "")]:
        response = bob.request(method, f"/api/v1/files/{file['id']}{path}")
        assert response.status_code == 404, (method, path, response.text)
    assert file["id"] not in [f["id"] for f in bob.get("/api/v1/files/").json()["items"]]
    search = bob.post("/api/v1/retrieval/search", json={"query": "recipe",
                                                        "file_ids": [file["id"]]})
    assert search.status_code == 404
    with deployment.client("admin") as admin:
        assert admin.get(f"/api/v1/files/{file['id']}").status_code == 200


def test_delete_removes_content_and_vectors(alice: httpx.Client) -> None:
    file = upload(alice, "temp.md", b"# Temp\nThe octopus has three hearts.")
    assert _search(alice, file["id"], "octopus hearts")
    assert alice.delete(f"/api/v1/files/{file['id']}").status_code == 200
    assert alice.get(f"/api/v1/files/{file['id']}").status_code == 404
    assert alice.get(f"/api/v1/files/{file['id']}/content").status_code == 404
    query = alice.post("/api/v1/retrieval/query/doc",
                       json={"collection_name": f"file-{file['id']}", "query": "octopus"})
    assert query.status_code == 404


def test_job_progress_is_reported(alice: httpx.Client) -> None:
    text = "\n\n".join(f"Paragraph {i} talks about lighthouse number {i}." for i in range(60))
    file = upload(alice, "many.txt", text.encode(), wait=False)
    job_id = file["job_id"]
    status = wait_processed(alice, file["id"])
    assert status["status"] == "completed"
    job = alice.get(f"/api/v1/retrieval/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["progress"] == 1.0 and job["total"] > 1
    assert alice.get("/api/v1/retrieval/jobs/nope").status_code == 404
