"""Collections kept in an external vector database (Open WebUI 0.12's external knowledge), on the
real services (tests/support/fullstack.py: embeddings from the fake OpenAI provider, 8
numbers per text), against real stores filled by "another system" (this test, with the same
embeddings): a `chroma run` server over HTTP, a `milvus-lite server` over gRPC, and a Qdrant in
qdrant-client's local mode (no Qdrant server can run here). A source is tested, made into a
collection (with a new connection or a stored one), changed, retrieve-tested, searched like any
collection (query/collection, /rag) and used in a chat turn (`#` it: the model is given its
text, the answer cites it). Bad input: an unreachable or silent store (502/504 naming its URL,
nothing stored), unknown ids (404), another user's collection (404), a user (403), read-only
files. On the same stack: the admin's reindex of the collections' own index
(metadata/reindex)."""

from __future__ import annotations

import json
import secrets
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.conftest import bearer, signup
from tests.fakes.openai import vector
from tests.retrieval.test_store_contract import milvus_server  # noqa: F401 - fixture
from tests.support.fullstack import FullStack, full_stack
from tests.support.procs import closed_port

EXT = "/api/v1/knowledge/external"
DIM = 8  # the fake provider's embedding size
DOCS = {"pilots": "Harbour pilots board incoming ships at buoy three before dawn.",
        "tides": "Spring tides peak two days after the full moon in this bay.",
        "cranes": "The container cranes on pier four lift forty boxes an hour."}
# The fake's embeddings carry no meaning: a document's own text is its nearest query.
QUESTION = DOCS["pilots"]
ECHO = "gpt-fake-echo"  # answers with the request it got, as JSON


@pytest.fixture(scope="module")
def vectors() -> dict[str, np.ndarray]:
    """The documents embedded as the stack embeds them, as the other system did."""
    return {key: np.array(vector(text, DIM), dtype=np.float32) for key, text in DOCS.items()}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullStack]:
    root = tmp_path_factory.mktemp("external-knowledge")
    with full_stack(secrets.token_urlsafe(32), root / "data", root / "logs") as running:
        yield running


@pytest.fixture(scope="module")
def data(stack: FullStack) -> Path:
    """The retrieval service's data folder (its LanceDB)."""
    return Path(stack.services["retrieval"].env["OWUI_DATA_DIR"])


def _client(gateway: str) -> httpx.Client:
    account = signup(gateway, name="U", email=f"u-{uuid.uuid4().hex[:8]}@x.io")
    return httpx.Client(base_url=gateway, headers=bearer(account["token"]), timeout=120)


@pytest.fixture(scope="module")
def admin(stack: FullStack) -> Iterator[httpx.Client]:
    with _client(stack.gateway) as client:  # the first account is the admin
        yield client


@pytest.fixture(scope="module")
def alice(stack: FullStack, admin: httpx.Client) -> Iterator[httpx.Client]:
    with _client(stack.gateway) as client:
        yield client


@pytest.fixture(scope="module")
def chroma_collection(chroma_server: str, vectors: dict[str, np.ndarray]) -> str:
    import chromadb

    port = int(chroma_server.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    name = f"harbour_{uuid.uuid4().hex[:6]}"
    collection = client.create_collection(name, metadata={"hnsw:space": "cosine"})
    collection.add(ids=list(DOCS), embeddings=[v.tolist() for v in vectors.values()],
                   documents=list(DOCS.values()),
                   metadatas=[{"source": f"{key}.md"} for key in DOCS])
    client.create_collection(f"{name}_empty", metadata={"hnsw:space": "cosine"})
    return name


@pytest.fixture(scope="module")
def milvus_collection(milvus_server: str, vectors: dict[str, np.ndarray]) -> str:  # noqa: F811
    from pymilvus import MilvusClient

    client = MilvusClient(uri=milvus_server, token="root:Milvus")
    name = f"harbour_{uuid.uuid4().hex[:6]}"
    client.create_collection(name, dimension=DIM, metric_type="COSINE", id_type="string",
                             max_length=64, consistency_level="Strong")
    client.insert(name, [{"id": key, "vector": embedding.tolist(), "text": DOCS[key],
                          "source": f"{key}.md"} for key, embedding in vectors.items()])
    client.close()
    return name


@pytest.fixture(scope="module")
def qdrant_path(tmp_path_factory: pytest.TempPathFactory, vectors: dict[str, np.ndarray]) -> Path:
    from qdrant_client import QdrantClient, models

    path = tmp_path_factory.mktemp("external-qdrant")
    client = QdrantClient(path=str(path))
    client.create_collection("test", vectors_config=models.VectorParams(
        size=DIM, distance=models.Distance.COSINE))
    client.upsert("test", [models.PointStruct(id=i, vector=embedding.tolist(), payload={
        "text": DOCS[key], "metadata": {"name": f"{key}.md"}})
        for i, (key, embedding) in enumerate(vectors.items())])
    client.close()
    return path


def chroma(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "Harbour Chroma", "provider": "chroma", "endpoint": url, **extra}


def source(name: str, **config: str) -> dict[str, Any]:
    return {"type": "collection", "name": name, "config": config}


def _state(admin: httpx.Client) -> tuple[int, int]:
    """How many connections and collections there are: nothing may be half-stored."""
    connections = admin.get(f"{EXT}/connections").json()["total"]
    return connections, admin.get("/api/v1/knowledge/").json()["total"]


def _rag(client: httpx.Client, knowledge_id: str) -> httpx.Response:
    return client.post("/api/v1/retrieval/rag", json={
        "messages": [{"role": "user", "content": QUESTION}], "collection_names": [knowledge_id],
        "k": 2})


def test_a_chroma_source_is_tested_created_searched_and_changed(
        admin: httpx.Client, alice: httpx.Client, chroma_server: str,
        chroma_collection: str) -> None:
    before = _state(admin)
    tried = admin.post(f"{EXT}/source/test", json={
        "connection": chroma(chroma_server), "source": source(chroma_collection,
                                                              content_field="document"),
        "query": QUESTION, "count": 2})
    assert tried.status_code == 200, tried.text
    assert tried.json()["documents"][0] == DOCS["pilots"]
    assert tried.json()["metadatas"][0]["source"] == "pilots.md"
    assert _state(admin) == before  # a test stores nothing

    made = admin.post(f"{EXT}/source/create", json={
        "name": " Harbour notes ", "description": "kept in Chroma",
        "connection": chroma(chroma_server), "test_query": QUESTION,
        "source": source(chroma_collection, content_field="document")})
    assert made.status_code == 200, made.text
    knowledge = made.json()
    assert knowledge["name"] == "Harbour notes" and knowledge["meta"]["source"] == "external"
    assert knowledge["meta"]["read_only"] is True
    assert knowledge["meta"]["external"]["provider"] == "chroma"
    assert _state(admin) == (before[0] + 1, before[1] + 1)
    listed = admin.get("/api/v1/knowledge/search", params={"source": "external"}).json()
    assert [item["id"] for item in listed["items"]] == [knowledge["id"]]
    local = admin.get("/api/v1/knowledge/search", params={"source": "local"}).json()
    assert knowledge["id"] not in [item["id"] for item in local["items"]]

    answer = _rag(admin, knowledge["id"])
    assert answer.status_code == 200, answer.text
    citation = answer.json()["citations"][0]
    assert citation["document"][0] == DOCS["pilots"] and "buoy three" in answer.json()["context"]
    assert citation["metadata"][0]["knowledge_id"] == knowledge["id"]
    queried = admin.post("/api/v1/retrieval/query/collection", json={
        "collection_names": [knowledge["id"]], "query": QUESTION, "k": 1}).json()
    assert queried["documents"] == [[DOCS["pilots"]]]

    # Read-only: no files; another user does not see it; a user may not change sources.
    file = admin.post("/api/v1/files/", files={"file": ("a.txt", b"Some text.")},
                      params={"process": "false"}).json()
    added = admin.post(f"/api/v1/knowledge/{knowledge['id']}/file/add",
                       json={"file_id": file["id"]})
    assert added.status_code == 400 and "read-only" in added.json()["detail"]
    assert alice.get(f"/api/v1/knowledge/{knowledge['id']}").status_code == 404
    assert _rag(alice, knowledge["id"]).status_code == 404
    assert alice.post(f"{EXT}/source/test", json={
        "connection": chroma(chroma_server), "source": source(chroma_collection,
                                                              content_field="document"),
        "query": QUESTION}).status_code == 403

    changed = admin.patch(f"{EXT}/source/{knowledge['id']}", json={
        "name": "Harbour", "connection": chroma(chroma_server, name="Renamed"),
        "source": source(chroma_collection, content_field="metadata.source"),
        "test_query": DOCS["tides"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Harbour"
    assert changed.json()["meta"]["external"]["source"]["config"] == {
        "content_field": "metadata.source"}
    connection_id = knowledge["meta"]["external"]["connection_id"]
    assert admin.get(f"{EXT}/connections/{connection_id}").json()["name"] == "Renamed"
    assert _rag(admin, knowledge["id"]).json()["citations"][0]["document"][0] == "pilots.md"
    assert admin.delete(f"/api/v1/knowledge/{knowledge['id']}/delete").json() is True
    assert admin.delete(f"{EXT}/connections/{connection_id}").json() is True


def test_a_milvus_collection_on_a_stored_connection(admin: httpx.Client, milvus_server: str,  # noqa: F811
                                                    milvus_collection: str) -> None:
    connection = admin.post(f"{EXT}/connections", json={
        "name": "Milvus", "provider": "milvus", "endpoint": milvus_server,
        "auth_config": {"token": "root:Milvus"}, "config": {"timeout": 20}}).json()
    milvus_source = source(milvus_collection, content_field="text", vector_field="vector")
    tried = admin.post(f"{EXT}/connections/{connection['id']}/retrieve-test", json={
        "query": QUESTION, "source": milvus_source, "count": 3})
    assert tried.status_code == 200, tried.text
    assert tried.json()["documents"][0] == DOCS["pilots"] and len(tried.json()["documents"]) == 3
    assert tried.json()["metadatas"][0]["file_id"] == "pilots"

    made = admin.post(f"{EXT}/knowledge/create", json={
        "name": "Milvus notes", "connection_id": connection["id"], "source": milvus_source})
    assert made.status_code == 200, made.text
    answer = _rag(admin, made.json()["id"]).json()
    assert answer["citations"][0]["document"][0] == DOCS["pilots"]
    # A connection still used by a collection stays.
    assert admin.delete(f"{EXT}/connections/{connection['id']}").status_code == 400
    admin.delete(f"/api/v1/knowledge/{made.json()['id']}/delete")
    assert admin.delete(f"{EXT}/connections/{connection['id']}").json() is True


def test_a_qdrant_source_with_open_webuis_default_fields(admin: httpx.Client,
                                                         qdrant_path: Path) -> None:
    connection = admin.post(f"{EXT}/connections", json={
        "name": "Qdrant", "provider": "qdrant", "endpoint": f"file:{qdrant_path}"}).json()
    # Without a source: Open WebUI's placeholder, collection 'test' with `payload.text`.
    tried = admin.post(f"{EXT}/connections/{connection['id']}/retrieve-test",
                       json={"query": QUESTION, "count": 1})
    assert tried.status_code == 200, tried.text
    assert tried.json()["documents"] == [DOCS["pilots"]]
    assert tried.json()["metadatas"][0]["name"] == "pilots.md"
    admin.delete(f"{EXT}/connections/{connection['id']}")


def _silent_listener() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_bad_sources_store_nothing(admin: httpx.Client, alice: httpx.Client,
                                   chroma_server: str, chroma_collection: str) -> None:
    before = _state(admin)
    good = source(chroma_collection, content_field="document")
    down = f"http://127.0.0.1:{closed_port()}"
    unreachable = admin.post(f"{EXT}/source/create", json={
        "name": "Down", "connection": chroma(down), "source": good, "test_query": QUESTION})
    assert unreachable.status_code == 502 and down in unreachable.json()["detail"]
    for provider, extra in (("qdrant", {}), ("milvus", {"vector_field": "vector"})):
        tried = admin.post(f"{EXT}/source/test", json={
            "connection": {"name": provider, "provider": provider, "endpoint": down},
            "source": source("harbour", content_field="text", **extra), "query": QUESTION})
        assert tried.status_code == 502 and down in tried.json()["detail"], tried.text
    for silent in _silent_listener():
        slow = admin.post(f"{EXT}/source/create", json={
            "name": "Slow", "connection": chroma(silent, config={"timeout": 1}),
            "source": good, "test_query": QUESTION})
        assert slow.status_code == 504 and silent in slow.json()["detail"]
    empty = admin.post(f"{EXT}/source/create", json={
        "name": "Empty", "connection": chroma(chroma_server), "test_query": QUESTION,
        "source": source(f"{chroma_collection}_empty", content_field="document")})
    assert empty.status_code == 400 and "no results" in empty.json()["detail"]
    missing = admin.post(f"{EXT}/source/test", json={
        "connection": chroma(chroma_server), "query": QUESTION,
        "source": source("no_such_collection", content_field="document")})
    assert missing.status_code == 400 and "no_such_collection" in missing.json()["detail"]
    no_field = admin.post(f"{EXT}/source/test", json={
        "connection": chroma(chroma_server), "source": source(chroma_collection),
        "query": QUESTION})
    assert no_field.status_code == 400 and "content_field" in no_field.json()["detail"]
    pgvector = admin.post(f"{EXT}/source/test", json={
        "connection": {"name": "pg", "provider": "pgvector", "endpoint": "postgresql://x/y"},
        "source": source("docs", content_field="text", vector_field="embedding"),
        "query": QUESTION})
    assert pgvector.status_code == 400 and "pgvector" in pgvector.json()["detail"]
    assert _state(admin) == before

    unknown = admin.post(f"{EXT}/knowledge/create", json={
        "name": "X", "connection_id": "nope", "source": good})
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    assert admin.post(f"{EXT}/connections/nope/retrieve-test",
                      json={"query": "q"}).status_code == 404
    assert admin.post(f"{EXT}/source/test", json={
        "connection_id": "nope", "connection": chroma(chroma_server), "source": good,
        "query": QUESTION}).status_code == 404
    local = admin.post("/api/v1/knowledge/create", json={"name": "Local", "description": ""})
    form = {"name": "X", "connection": chroma(chroma_server), "source": good,
            "test_query": QUESTION}
    for knowledge_id in (local.json()["id"], "nope"):  # not on an external source, or absent
        changed = admin.patch(f"{EXT}/source/{knowledge_id}", json=form)
        assert changed.status_code == 404, changed.text
    assert alice.patch(f"{EXT}/source/{local.json()['id']}", json=form).status_code == 403
    assert _state(admin) == (before[0], before[1] + 1)


def test_metadata_reindex_embeds_every_collection(admin: httpx.Client, alice: httpx.Client,
                                                  data: Path) -> None:
    """Open WebUI's index of collections (name and description), written whole by the admin,
    read here straight from the service's LanceDB files."""
    import asyncio

    from owui.retrieval.knowledge_index import INDEX
    from owui.retrieval.vectors.lance import LanceStore

    tides = admin.post("/api/v1/knowledge/create", json={
        "name": "Tide tables", "description": DOCS["tides"]}).json()
    admin.post("/api/v1/knowledge/create", json={"name": "Crane logs",
                                                  "description": DOCS["cranes"]})
    total = admin.get("/api/v1/knowledge/").json()["total"]
    assert alice.post("/api/v1/knowledge/metadata/reindex").status_code == 403
    answer = admin.post("/api/v1/knowledge/metadata/reindex")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"total": total, "success": total}
    assert admin.post("/api/v1/knowledge/metadata/reindex").json()["success"] == total

    async def nearest() -> list[str]:
        store = LanceStore(data / "vectors" / "lancedb", index_min_rows=1000)
        try:
            query = np.array(vector(f"Tide tables\n\n{DOCS['tides']}", DIM), dtype=np.float32)
            hits = await store.vector_search([INDEX], query, total + 5)
        finally:
            await store.close()
        return [hit.file_id for hit in hits]

    found = asyncio.run(nearest())
    assert len(found) == total  # written again whole: one row per collection
    assert found[0] == tides["id"]


def test_a_chat_turn_is_given_an_external_collection(admin: httpx.Client, chroma_server: str,
                                                     chroma_collection: str) -> None:
    """`#` the collection in a chat: the model gets its text, the answer cites it."""
    made = admin.post(f"{EXT}/source/create", json={
        "name": "Harbour for chat", "connection": chroma(chroma_server), "test_query": QUESTION,
        "source": source(chroma_collection, content_field="document")}).json()
    chat = admin.post("/api/v1/chats/new", json={"chat": {"title": "t"}}).json()
    answer = admin.post(f"/api/v1/chats/{chat['id']}/completions", json={
        "model": ECHO, "content": QUESTION, "stream": False,
        "files": [{"type": "collection", "id": made["id"]}]})
    assert answer.status_code == 200, answer.text
    messages = json.loads(answer.json()["content"])["messages"]
    given = "\n".join(str(message.get("content")) for message in messages)
    assert '<source id="1" name="pilots.md">' in given, given
    assert answer.json()["sources"][0]["source"]["name"] == "pilots.md"
    admin.delete(f"/api/v1/knowledge/{made['id']}/delete")
    admin.delete(f"{EXT}/connections/{made['meta']['external']['connection_id']}")
