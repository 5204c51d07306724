"""The files API (Open WebUI's `/api/v1/files`) as the web app and scripts call it, checked
against Open WebUI's document: upload, list, search, count, one file, its extracted content
(read and edited), rename, the HTML view, delete. Each call that changes something uploads a
file of its own. `/content`, `/content/html` and `/content/{file_name}` answer the file's
bytes, not JSON: tests/retrieval/test_webapp_knowledge.py checks them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import World, get, ok

FILES = "/api/v1/files"
FILE_SHAPE = "Open WebUI's FileModelResponse"


def uploaded(world: World, name: str = "", body: bytes = b"Plain words to find.",
             **params: str) -> dict[str, Any]:
    name = name or f"note-{uuid.uuid4().hex[:6]}.txt"
    return ok(world.client.post(f"{FILES}/", headers=world.bearer(), params=params,
                                files={"file": (name, body)}))


def on_file(method: str, suffix: str, body: dict[str, Any] | None = None,
            **params: str) -> Callable[[World], httpx.Response]:
    def call(world: World) -> httpx.Response:
        file = uploaded(world, process_in_background="false")
        return world.client.request(method, f"{FILES}/{file['id']}{suffix}",
                                    headers=world.bearer(), json=body, params=params)
    return call


OPERATIONS: list[Operation] = [
    Operation("POST", f"{FILES}/", "retrieval", Schema(),
              lambda w: w.client.post(f"{FILES}/", headers=w.bearer(),
                                      files={"file": ("up.txt", b"Uploaded words.")})),
    Operation("GET", f"{FILES}/", "retrieval", Schema(),
              lambda w: (uploaded(w), w.get(f"{FILES}/", page="1"))[1]),
    Operation("GET", f"{FILES}/search", "retrieval", Schema(),
              lambda w: (uploaded(w, "findme.txt"), w.get(f"{FILES}/search",
                                                          filename="findme*"))[1]),
    Operation("GET", f"{FILES}/user/search", "retrieval", Schema(),
              lambda w: (uploaded(w), w.get(f"{FILES}/user/search"))[1]),
    Operation("GET", f"{FILES}/count", "retrieval", Schema(), get(f"{FILES}/count")),
    Operation("GET", f"{FILES}/user/count", "retrieval", Schema(), get(f"{FILES}/user/count")),
    Operation("GET", f"{FILES}/{{id}}", "retrieval", Schema(), on_file("GET", "")),
    Operation("GET", f"{FILES}/{{id}}/process/status", "retrieval",
              Shape({"status": "completed"}, "Open WebUI's process status {status}"),
              on_file("GET", "/process/status")),
    Operation("GET", f"{FILES}/{{id}}/data/content", "retrieval",
              Shape({"content": ""}, "Open WebUI's get_file_data_content_by_id {content}"),
              on_file("GET", "/data/content")),
    Operation("POST", f"{FILES}/{{id}}/data/content/update", "retrieval",
              Shape({"id": "", "user_id": "", "filename": "", "data": {}, "meta": {},
                     "created_at": 0}, FILE_SHAPE),
              on_file("POST", "/data/content/update", {"content": "Edited words."})),
    Operation("POST", f"{FILES}/{{id}}/rename", "retrieval",
              Shape({"id": "", "user_id": "", "filename": "", "meta": {}, "created_at": 0},
                    FILE_SHAPE),
              on_file("POST", "/rename", {"filename": "renamed.txt"})),
    Operation("DELETE", f"{FILES}/{{id}}", "retrieval",
              Shape({"message": ""}, "Open WebUI answers {message: 'File deleted "
                    "successfully'}"), on_file("DELETE", "")),
]

