"""Open WebUI's process/text and query/doc, our search, and web search through the fake
engine and pages on loopback, on every store."""

from __future__ import annotations

import httpx

from tests.retrieval.conftest import Deployment


def test_process_text_then_query_doc(alice: httpx.Client, bob: httpx.Client) -> None:
    response = alice.post("/api/v1/retrieval/process/text", json={
        "name": "notes", "collection_name": "garden-notes",
        "content": "Basil hates the cold. Rosemary survives winter outdoors. "
                   "Mint spreads everywhere unless kept in a pot."})
    assert response.status_code == 200, response.text
    assert response.json()["collection_name"] == "garden-notes"
    found = alice.post("/api/v1/retrieval/query/doc", json={
        "collection_name": "garden-notes", "query": "which herb spreads too much", "k": 1})
    assert found.status_code == 200 and "Mint" in found.json()["documents"][0][0]
    assert found.json()["metadatas"][0][0]["name"] == "notes"
    # Names are per user: Bob neither sees Alice's nor collides with it.
    assert bob.post("/api/v1/retrieval/query/doc", json={
        "collection_name": "garden-notes", "query": "mint"}).status_code == 404
    unnamed = alice.post("/api/v1/retrieval/process/text",
                         json={"name": "n2", "content": "The moon is made of rock."})
    assert unnamed.status_code == 200 and len(unnamed.json()["collection_name"]) > 10
    assert alice.post("/api/v1/retrieval/process/text",
                      json={"name": "x", "content": "   "}).status_code == 422


def test_web_search_returns_cited_chunks(alice: httpx.Client) -> None:
    response = alice.post("/api/v1/retrieval/process/web/search",
                          json={"queries": ["why do sea otters hold hands"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["loaded_count"] == 2 and len(body["items"]) == 4
    top = body["docs"][0]
    assert "hold hands" in top["content"] and top["metadata"]["url"].endswith("/pages/otters")
    assert top["metadata"]["name"] == "Sea otters"
    assert "var tracking" not in " ".join(doc["content"] for doc in body["docs"])
    errors = {error["url"].rsplit("/", 1)[-1]: error["error"] for error in body["errors"]}
    assert "private or local" in errors["redirect-private"]
    assert "not a text page" in errors["binary"]

    again = alice.post("/api/v1/retrieval/query/collection", json={
        "collection_names": body["collection_names"], "query": "what do otters eat"})
    assert again.status_code == 200 and again.json()["documents"][0]

    rag = alice.post("/api/v1/retrieval/rag", json={
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What do sea urchins eat?"}]}],
        "web_search": True, "k": 2})
    assert rag.status_code == 200, rag.text
    citation = rag.json()["citations"][0]
    assert citation["source"]["type"] == "web" and citation["source"]["url"].startswith("http")
    assert "kelp" in " ".join(citation["document"]).lower()


def test_rag_and_search_refuse_bad_input(alice: httpx.Client, deployment: Deployment) -> None:
    no_user = alice.post("/api/v1/retrieval/rag", json={
        "messages": [{"role": "assistant", "content": "hi"}], "collection_names": ["x"]})
    assert no_user.status_code == 422 and "user message" in no_user.json()["detail"]
    nothing = alice.post("/api/v1/retrieval/rag", json={
        "messages": [{"role": "user", "content": "hi"}]})
    assert nothing.status_code == 422
    assert alice.post("/api/v1/retrieval/search", json={"query": "x"}).status_code == 422
    assert alice.post("/api/v1/retrieval/query/collection",
                      content=b"{not json", headers={"Content-Type": "application/json"}
                      ).status_code == 400
    assert alice.post("/api/v1/retrieval/process/web/search",
                      json={"queries": ["  "]}).status_code == 422
    status = alice.get("/api/v1/retrieval/").json()
    assert status["vector_db"] == deployment.backend and status["status"] is True
