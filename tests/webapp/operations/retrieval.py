"""The retrieval endpoints (Open WebUI's `/api/v1/retrieval`): the admin's Documents and Web
Search pages (config and embedding, read and saved), queries on a collection, text and files
processed, entries deleted; checked against Open WebUI's document (where it gives no schema,
the shape its handler answers)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.operations.files import uploaded
from tests.webapp.operations.knowledge import shelf
from tests.webapp.world import World, get, ok

R = "/api/v1/retrieval"
CONFIG = {"status": True, "RAG_TEMPLATE": "", "TOP_K": 0, "ENABLE_RAG_HYBRID_SEARCH": False,
          "RELEVANCE_THRESHOLD": 0.0, "CHUNK_SIZE": 0, "CHUNK_OVERLAP": 0, "FILE_MAX_SIZE": 0.0,
          "web": {"ENABLE_WEB_SEARCH": True, "WEB_SEARCH_RESULT_COUNT": 0}}
EMBEDDING = {"status": True, "RAG_EMBEDDING_ENGINE": "", "RAG_EMBEDDING_MODEL": "",
             "RAG_EMBEDDING_BATCH_SIZE": 0, "openai_config": {"url": "", "key": ""},
             "ollama_config": {"url": "", "key": ""}}
QUERY = {"distances": [[0.5]], "documents": [[""]], "metadatas": [[{}]]}
SOURCE = "Open WebUI's retrieval router (get_rag_config / get_embedding_config / query_*)"


def post(path: str, body: Any) -> Any:
    return lambda w: w.client.post(path, headers=w.bearer(), json=body)


def _saved(world: World) -> httpx.Response:
    config = ok(world.get(f"{R}/config"))
    return world.client.post(f"{R}/config/update", headers=world.bearer(), json=config)


def _embedding_saved(world: World) -> httpx.Response:
    current = ok(world.get(f"{R}/embedding"))
    return world.client.post(f"{R}/embedding/update", headers=world.bearer(), json=current)


def _query(world: World, path: str, names: dict[str, Any]) -> httpx.Response:
    return world.client.post(path, headers=world.bearer(),
                             json={"query": "When do owls hunt?", **names})


def _process_file(world: World) -> httpx.Response:
    file = uploaded(world, process="false")
    return world.client.post(f"{R}/process/file", headers=world.bearer(),
                             json={"file_id": file["id"]})


def _batch(world: World) -> httpx.Response:
    knowledge = shelf(world)["knowledge"]
    file = uploaded(world)
    return world.client.post(f"{R}/process/files/batch", headers=world.bearer(), json={
        "collection_name": knowledge["id"], "files": [{"id": file["id"]}]})


def _delete(world: World) -> httpx.Response:
    file = uploaded(world, process_in_background="false")
    return world.client.post(f"{R}/delete", headers=world.bearer(), json={
        "collection_name": f"file-{file['id']}", "file_id": file["id"]})


OPERATIONS: list[Operation] = [
    Operation("GET", f"{R}/config", "retrieval", Shape(CONFIG, SOURCE), get(f"{R}/config")),
    Operation("POST", f"{R}/config/update", "retrieval", Shape(CONFIG, SOURCE), _saved),
    Operation("GET", f"{R}/embedding", "retrieval", Shape(EMBEDDING, SOURCE),
              get(f"{R}/embedding")),
    Operation("POST", f"{R}/embedding/update", "retrieval", Shape(EMBEDDING, SOURCE),
              _embedding_saved),
    Operation("POST", f"{R}/query/doc", "retrieval", Shape(QUERY, SOURCE),
              lambda w: _query(w, f"{R}/query/doc",
                               {"collection_name": shelf(w)["knowledge"]["id"]})),
    Operation("POST", f"{R}/query/collection", "retrieval", Shape(QUERY, SOURCE),
              lambda w: _query(w, f"{R}/query/collection",
                               {"collection_names": [shelf(w)["knowledge"]["id"]]})),
    Operation("POST", f"{R}/process/text", "retrieval",
              Shape({"status": True, "collection_name": ""}, SOURCE),
              post(f"{R}/process/text", {"name": "memo", "content": "A memo to index."})),
    Operation("POST", f"{R}/process/file", "retrieval",
              Shape({"status": True, "collection_name": "", "filename": "", "content": ""},
                    SOURCE), _process_file),
    Operation("POST", f"{R}/process/files/batch", "retrieval", Schema(), _batch),
    Operation("POST", f"{R}/delete", "retrieval", Shape({"status": True}, SOURCE), _delete),
    # YouTube cannot be reached from this stack: the answer checked is the refusal of a URL
    # that names no video (tests/retrieval/test_youtube.py checks a transcript's, through a
    # stand-in for YouTube).
    Operation("POST", f"{R}/process/youtube", "retrieval",
              Shape({"detail": ""}, "Open WebUI's process_web: a 400 with the loader's error"),
              post(f"{R}/process/youtube", {"url": "not a url"}), label="not a video's URL",
              status=400),
]
