"""Knowledge collections through the gateway, on both stores: the Done-when flow (a PDF and a
Markdown file in a collection, questions answered with cited chunks, vector and hybrid),
sharing, and deletion taking the vectors along."""

from __future__ import annotations

import httpx
import pytest

from tests.retrieval.conftest import Deployment, upload
from tests.retrieval.documents import HANDBOOK_MD, PDF_PAGES, make_pdf


def _create(client: httpx.Client, name: str, **extra: object) -> dict:
    response = client.post("/api/v1/knowledge/create",
                           json={"name": name, "description": "test", **extra})
    assert response.status_code == 200, response.text
    return response.json()


def _add(client: httpx.Client, knowledge_id: str, file_id: str) -> httpx.Response:
    return client.post(f"/api/v1/knowledge/{knowledge_id}/file/add", json={"file_id": file_id})


def _query(client: httpx.Client, names: list[str], query: str, **form: object) -> httpx.Response:
    return client.post("/api/v1/retrieval/query/collection",
                       json={"collection_names": names, "query": query, **form})


@pytest.fixture
def library(alice: httpx.Client) -> dict:
    """A collection holding a PDF and a Markdown file of Alice's."""
    knowledge = _create(alice, "Library")
    pdf = upload(alice, "reactor.pdf", make_pdf(PDF_PAGES), wait=False)
    markdown = upload(alice, "handbook.md", HANDBOOK_MD.encode(), wait=False)
    for file in (pdf, markdown):  # added while still processing: the add waits for it
        response = _add(alice, knowledge["id"], file["id"])
        assert response.status_code == 200, response.text
    return {"knowledge": response.json(), "pdf": pdf, "markdown": markdown}


@pytest.mark.parametrize("hybrid", [False, True])
def test_questions_get_the_right_chunks_with_citations(alice: httpx.Client, library: dict,
                                                       hybrid: bool) -> None:
    knowledge = library["knowledge"]
    assert {f["id"] for f in knowledge["files"]} == {library["pdf"]["id"],
                                                     library["markdown"]["id"]}
    response = _query(alice, [knowledge["id"]], "What cooling does the Zephyr-9 reactor use?",
                      k=3, hybrid=hybrid)
    assert response.status_code == 200, response.text
    result = response.json()
    top = result["metadatas"][0][0]
    assert "molten salt" in result["documents"][0][0]
    assert top["name"] == "reactor.pdf" and top["page"] == 2
    assert top["file_id"] == library["pdf"]["id"] and top["collection_name"] == knowledge["id"]
    scores = result["distances"][0]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1.0001

    answer = _query(alice, [knowledge["id"]], "how many days of paid holiday", hybrid=hybrid)
    assert "twenty-eight days" in answer.json()["documents"][0][0]

    rag = alice.post("/api/v1/retrieval/rag", json={
        "messages": [{"role": "system", "content": "be brief"},
                     {"role": "user", "content": "How is the Zephyr-9 reactor cooled?"}],
        "collection_names": [knowledge["id"]], "k": 2, "hybrid": hybrid})
    assert rag.status_code == 200, rag.text
    body = rag.json()
    assert body["mode"] == ("hybrid" if hybrid else "vector")
    first = body["citations"][0]
    assert first["id"] == 1 and first["source"]["name"] == "reactor.pdf"
    assert any("molten salt" in text for text in first["document"])
    assert '<source id="1" name="reactor.pdf">' in body["context"]
    assert "How is the Zephyr-9 reactor cooled?" in body["prompt"]


def test_relevance_threshold_and_full_text(alice: httpx.Client, library: dict) -> None:
    knowledge_id = library["knowledge"]["id"]
    strict = _query(alice, [knowledge_id], "completely unrelated banana smoothie", r=0.9)
    assert strict.status_code == 200 and strict.json()["documents"] == [[]]
    text = alice.post("/api/v1/retrieval/search", json={
        "query": "storeroom spare parts", "collection_names": [knowledge_id], "mode": "text"})
    assert text.status_code == 200, text.text
    assert "storeroom" in text.json()["hits"][0]["text"] and text.json()["mode"] == "text"


def test_listing_updating_and_sharing(alice: httpx.Client, bob: httpx.Client,
                                      deployment: Deployment, library: dict) -> None:
    knowledge_id = library["knowledge"]["id"]
    listed = alice.get("/api/v1/knowledge/").json()
    mine = next(item for item in listed["items"] if item["id"] == knowledge_id)
    assert mine["file_count"] == 2 and mine["write_access"] is True

    for path in ("", "/update", "/file/add", "/delete"):
        method = "DELETE" if path == "/delete" else ("GET" if not path else "POST")
        body = {"name": "x", "description": "", "file_id": library["pdf"]["id"]}
        response = bob.request(method, f"/api/v1/knowledge/{knowledge_id}{path}", json=body)
        assert response.status_code == 404, (path, response.text)
    assert _query(bob, [knowledge_id], "reactor").status_code == 404
    assert knowledge_id not in [k["id"] for k in bob.get("/api/v1/knowledge/").json()["items"]]

    grants = [{"principal_type": "user", "principal_id": deployment.user_id("bob"),
               "permission": "read"}]
    updated = alice.post(f"/api/v1/knowledge/{knowledge_id}/update",
                         json={"name": "Library 2", "description": "shared",
                               "access_grants": grants})
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Library 2"
    assert updated.json()["access_grants"][0]["principal_id"] == deployment.user_id("bob")

    seen = bob.get(f"/api/v1/knowledge/{knowledge_id}")
    assert seen.status_code == 200 and seen.json()["write_access"] is False
    assert "molten salt" in _query(bob, [knowledge_id], "reactor cooling").text
    assert bob.get(f"/api/v1/files/{library['pdf']['id']}").status_code == 200
    assert _add(bob, knowledge_id, library["pdf"]["id"]).status_code == 403
    assert bob.delete(f"/api/v1/knowledge/{knowledge_id}/delete").status_code == 403


def test_remove_and_delete_take_the_vectors(alice: httpx.Client, library: dict) -> None:
    knowledge_id = library["knowledge"]["id"]
    pdf_id = library["pdf"]["id"]
    removed = alice.post(f"/api/v1/knowledge/{knowledge_id}/file/remove",
                         params={"delete_file": False}, json={"file_id": pdf_id})
    assert removed.status_code == 200, removed.text
    assert [f["id"] for f in removed.json()["files"]] == [library["markdown"]["id"]]
    documents = _query(alice, [knowledge_id], "Zephyr-9 reactor cooling", k=10).json()
    assert not any("molten salt" in text for text in documents["documents"][0])
    assert alice.get(f"/api/v1/files/{pdf_id}").status_code == 200  # kept: delete_file=false

    gone = alice.post(f"/api/v1/knowledge/{knowledge_id}/file/remove",
                      json={"file_id": library["markdown"]["id"]})
    assert gone.status_code == 200 and gone.json()["files"] == []
    assert alice.get(f"/api/v1/files/{library['markdown']['id']}").status_code == 404

    assert _add(alice, knowledge_id, pdf_id).status_code == 200
    assert alice.delete(f"/api/v1/knowledge/{knowledge_id}/delete").json() is True
    assert alice.get(f"/api/v1/knowledge/{knowledge_id}").status_code == 404
    assert _query(alice, [knowledge_id], "reactor").status_code == 404
    still = alice.post("/api/v1/retrieval/query/doc",
                       json={"collection_name": f"file-{pdf_id}", "query": "reactor cooling"})
    assert "molten salt" in still.text  # the file itself keeps its own index


def test_bad_knowledge_requests(alice: httpx.Client) -> None:
    assert alice.get("/api/v1/knowledge/nope").status_code == 404
    assert _query(alice, ["no-such-collection"], "x").json()["detail"] == \
        "Collection 'no-such-collection' not found."
    assert alice.post("/api/v1/knowledge/create", json={"name": "  ", "description": ""}
                      ).status_code == 422
    knowledge = _create(alice, "Bad input")
    assert _add(alice, knowledge["id"], "missing-file").status_code == 404
    failed = upload(alice, "broken.json", b"{nope")
    response = _add(alice, knowledge["id"], failed["id"])
    assert response.status_code == 400 and "not processed" in response.json()["detail"]
    stored = upload(alice, "later.txt", b"Processed when added.", process=False)
    assert stored["data"]["status"] == "stored"
    added = _add(alice, knowledge["id"], stored["id"])
    assert added.status_code == 200 and added.json()["files"][0]["id"] == stored["id"]
    bad_grant = alice.post("/api/v1/knowledge/create", json={
        "name": "g", "description": "", "access_grants": [
            {"principal_type": "group", "principal_id": "g1", "permission": "read"}]})
    assert bad_grant.status_code == 422
    assert _query(alice, [], "x").status_code == 422
