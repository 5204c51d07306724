"""Open WebUI's Ollama routes (`/ollama/*`, the `ollama` rows but its config and verify), each
with and without `/{url_idx}`, checked against Open WebUI's answers. The prepared stack has no
Ollama answering (its model menu asks all the same), so each call first adds the stand-in
Ollama as a connection (admin) and removes it after: the other operations see the world
unchanged. Open WebUI's document gives these answers no schema (Ollama's own are passed on);
the shapes are Ollama's API reference, Open WebUI's where it answers itself (`urls` in tags,
`true` for copy and delete, `{"status": true}`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.operations.integrations import CHAT_COMPLETION, EMBEDDINGS, MESSAGE
from tests.webapp.world import World

OLLAMA = "Ollama's API reference"
OPEN_WEBUI = "Open WebUI 0.12.4's Ollama router (what it answers itself)"
CHAT_MODEL = "llama-fake:latest"
EMBED_MODEL = "embed-fake:latest"
DETAILS = {"format": "", "family": "", "families": [""], "parameter_size": "",
           "quantization_level": ""}
MODEL = {"name": "", "model": "", "modified_at": "", "size": 0, "digest": "",
         "details": DETAILS}
DONE = {"model": "", "created_at": "", "done": True, "done_reason": "", "total_duration": 0,
        "prompt_eval_count": 0, "eval_count": 0}
STATUS = {"status": ""}
Call = Callable[[httpx.Client, dict[str, str], str], httpx.Response]


@contextmanager
def ollama_connection(world: World) -> Iterator[int]:
    """The stand-in Ollama as a connection while the block runs; its url_idx."""
    headers = world.bearer()
    answer = world.client.post("/api/v1/inference/connections", headers=headers, json={
        "provider": "ollama", "url": world.stack.fakes["ollama"].url, "name": "conformance"})
    assert answer.status_code == 201, answer.text
    made = answer.json()
    try:
        listed = world.client.get("/api/v1/inference/connections", headers=headers).json()
        yield [c["id"] for c in listed if c["provider"] == "ollama"].index(made["id"])
    finally:
        world.client.delete(f"/api/v1/inference/connections/{made['id']}", headers=headers)


def with_ollama(call: Call, indexed: bool) -> Callable[[World], httpx.Response]:
    """`call` made with the connection there; `suffix` is `/{url_idx}` or nothing."""
    def run(world: World) -> httpx.Response:
        with ollama_connection(world) as url_idx:
            return call(world.client, world.bearer(), f"/{url_idx}" if indexed else "")
    return run


def _request(method: str, path: str, body: Any) -> Call:
    return lambda c, h, suffix: c.request(method, f"{path}{suffix}", headers=h, json=body)


def both(method: str, path: str, shape: Any, body: Any = None,
         source: str = OLLAMA) -> list[Operation]:
    """The operation, and its `/{url_idx}` variant."""
    return [Operation(method, f"{path}{template}", "inference", Shape(shape, source),
                      with_ollama(_request(method, path, body), bool(template)))
            for template in ("", "/{url_idx}")]


def one(method: str, path: str, shape: Any, body: Any = None,
        source: str = OLLAMA) -> Operation:
    return Operation(method, path, "inference", Shape(shape, source),
                     with_ollama(_request(method, path, body), False))


CHAT = {"model": CHAT_MODEL, "stream": False, "options": {"num_predict": 2},
        "messages": [{"role": "user", "content": "hi"}]}
OPENAI_CHAT = {"model": CHAT_MODEL, "max_tokens": 2,
               "messages": [{"role": "user", "content": "hi"}]}
ASK = {"model": CHAT_MODEL, "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}
TEXT_COMPLETION = {"id": "", "object": "", "created": 0, "model": "",
                   "choices": [{"text": "", "index": 0, "finish_reason": ""}]}
RESPONSE = {"id": "", "object": "", "created_at": 0, "model": "", "status": "",
            "output": [{"type": "", "id": "", "role": "",
                        "content": [{"type": "", "text": ""}]}]}
MODEL_LIST = {"object": "", "data": [{"id": "", "object": "", "created": 0, "owned_by": ""}]}
SHOWN = {"modelfile": "", "parameters": "", "template": "", "details": DETAILS,
         "model_info": {}, "capabilities": [""]}
LOADED = {"models": [{"name": "", "model": "", "size": 0, "digest": "", "details": DETAILS,
                      "expires_at": "", "size_vram": 0}]}
COPY = {"source": CHAT_MODEL, "destination": "llama-copy:latest"}
VALIDATION = {"detail": [{"loc": [""], "msg": "", "type": ""}]}

OPERATIONS: list[Operation] = [
    Operation("GET", "/ollama/", "inference", Schema(),
              lambda w: w.client.get("/ollama/", headers=w.bearer())),
    Operation("GET", "/ollama/", "inference", Shape({"status": True}, OPEN_WEBUI),
              lambda w: w.client.get("/ollama/", headers=w.bearer()), label="its value"),
    one("GET", "/ollama/api/tags", {"models": [{**MODEL, "urls": [0]}]}, source=OPEN_WEBUI),
    Operation("GET", "/ollama/api/tags/{url_idx}", "inference", Shape({"models": [MODEL]}, OLLAMA),
              with_ollama(_request("GET", "/ollama/api/tags", None), True)),
    *both("GET", "/ollama/api/version", {"version": ""}),
    one("GET", "/ollama/api/ps", LOADED),
    one("POST", "/ollama/api/show", SHOWN, {"model": CHAT_MODEL}),
    *both("POST", "/ollama/api/chat", {**DONE, "message": {"role": "", "content": ""}}, CHAT),
    *both("POST", "/ollama/api/generate", {**DONE, "response": ""},
          {"model": CHAT_MODEL, "prompt": "hi", "stream": False, "options": {"num_predict": 2}}),
    *both("POST", "/ollama/api/embed", {"model": "", "embeddings": [[0.5]]},
          {"model": EMBED_MODEL, "input": ["a", "b"]}),
    *both("POST", "/ollama/api/embeddings", {"embedding": [0.5]},
          {"model": EMBED_MODEL, "prompt": "a"}),
    one("POST", "/ollama/api/unload", {"status": True}, {"model": CHAT_MODEL},
        source=OPEN_WEBUI),
    *both("POST", "/ollama/api/pull", STATUS, {"model": CHAT_MODEL, "stream": False}),
    *both("DELETE", "/ollama/api/push", STATUS, {"model": CHAT_MODEL, "stream": False}),
    *both("POST", "/ollama/api/create", STATUS,
          {"model": "llama-two", "from": CHAT_MODEL, "stream": False}),
    *both("POST", "/ollama/api/copy", True, COPY, source=OPEN_WEBUI),
    *both("DELETE", "/ollama/api/delete", True, {"model": EMBED_MODEL}, source=OPEN_WEBUI),
    *both("POST", "/ollama/v1/chat/completions", CHAT_COMPLETION, OPENAI_CHAT),
    *both("POST", "/ollama/v1/completions", TEXT_COMPLETION,
          {"model": CHAT_MODEL, "prompt": "hi", "max_tokens": 2}),
    *both("POST", "/ollama/v1/embeddings", EMBEDDINGS, {"model": EMBED_MODEL, "input": "a"}),
    *both("POST", "/ollama/v1/messages", MESSAGE, ASK),
    *both("POST", "/ollama/v1/responses", RESPONSE,
          {"model": CHAT_MODEL, "input": "hi", "max_output_tokens": 2}),
    *both("GET", "/ollama/v1/models", MODEL_LIST),
    # Model files: the answer is an SSE stream (tests/inference/test_ollama_routes.py reads
    # it); here the refusals Open WebUI gives in JSON.
    *[Operation("POST", f"/ollama/models/download{template}", "inference",
                Shape({"detail": ""}, OPEN_WEBUI),
                with_ollama(_request("POST", "/ollama/models/download",
                                     {"url": "http://127.0.0.1/model.gguf"}), bool(template)),
                label="a host it does not take", status=400)
      for template in ("", "/{url_idx}")],
    *[Operation("POST", f"/ollama/models/upload{template}", "inference",
                Shape(VALIDATION, OPEN_WEBUI),
                with_ollama(lambda c, h, suffix: c.post(f"/ollama/models/upload{suffix}",
                                                        headers=h, files={"other": b"x"}),
                            bool(template)),
                label="no file", status=422)
      for template in ("", "/{url_idx}")],
]
