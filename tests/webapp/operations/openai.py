"""The admin's Connections settings (Open WebUI's `/openai/*` and `/ollama/config*`,
`/ollama/verify`) and the OpenAI routes integrations call, checked against Open WebUI's answers.
Updates send back the config as read, so the connections stay as the world made them."""

from __future__ import annotations

import httpx

from tests.support.conformance import Operation, Shape
from tests.webapp.world import MODEL, World, fresh_user, get, ok

MODEL_LIST = {"object": "list", "data": [{"id": "m", "object": "model", "created": 0,
                                          "owned_by": "x"}]}
OPENAI_CONFIG = {"ENABLE_OPENAI_API": True, "OPENAI_API_BASE_URLS": ["https://x/v1"],
                 "OPENAI_API_KEYS": [""], "OPENAI_API_CONFIGS": {}}
OLLAMA_CONFIG = {"ENABLE_OLLAMA_API": True, "OLLAMA_BASE_URLS": ["http://x:11434"],
                 "OLLAMA_API_CONFIGS": {}}
DENIED = Shape({"detail": ""}, "Open WebUI's passthrough answers 403 {detail} unless "
                               "ENABLE_OPENAI_API_PASSTHROUGH is on (off by default)")
COMPLETION = {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"},
                           "finish_reason": "stop"}]}


def _update(path: str, config_path: str) -> object:
    def call(world: World) -> httpx.Response:
        current = ok(world.get(config_path))
        return world.client.post(path, headers=world.bearer(), json=current)
    return call


def _as_user(method: str, path: str) -> object:
    return lambda w: w.client.request(method, path, headers=fresh_user(w),
                                      json={"model": MODEL})


def _verify_openai(world: World) -> httpx.Response:
    url = ok(world.get("/openai/config"))["OPENAI_API_BASE_URLS"][0]
    return world.client.post("/openai/verify", headers=world.bearer(),
                             json={"url": url, "key": ""})


NO_MANAGEMENT = Shape({"detail": ""}, "Open WebUI answers 400 {detail: 'Provider \"default\" "
                                     "does not support model management'} for a connection "
                                     "that is not llama.cpp or LM Studio")
PLAIN = "a plain OpenAI connection"
MANAGEMENT = [("GET", "/openai/models/{url_idx}/catalog", "/openai/models/0/catalog", None),
              ("POST", "/openai/models/{url_idx}/download", "/openai/models/0/download",
               {"model": MODEL}),
              ("GET", "/openai/models/{url_idx}/download/status/{job_id}",
               "/openai/models/0/download/status/job-1", None),
              ("POST", "/openai/models/{url_idx}/load", "/openai/models/0/load",
               {"model": MODEL}),
              ("POST", "/openai/models/{url_idx}/unload", "/openai/models/0/unload",
               {"model": MODEL}),
              ("GET", "/openai/models/{url_idx}/sse", "/openai/models/0/sse", None),
              ("DELETE", "/openai/models/{url_idx}", f"/openai/models/0?model={MODEL}", None)]


def _admin_call(method: str, path: str, body: object) -> object:
    return lambda w: w.client.request(method, path, headers=w.bearer(), json=body)


OPERATIONS: list[Operation] = [
    *[Operation(method, template, "inference", NO_MANAGEMENT, _admin_call(method, path, body),
                label=PLAIN, status=400) for method, template, path, body in MANAGEMENT],
    Operation("POST", "/api/models/unload", "inference",
              Shape({"detail": ""}, "Open WebUI answers 400 {detail} for a model whose "
                                    "server cannot unload (a plain OpenAI connection)"),
              _admin_call("POST", "/api/models/unload", {"model": MODEL}), label=PLAIN,
              status=400),
    Operation("POST", "/openai/config/update", "inference",
              Shape(OPENAI_CONFIG, "Open WebUI answers the config as stored"),
              _update("/openai/config/update", "/openai/config")),
    Operation("POST", "/openai/verify", "inference",
              Shape(MODEL_LIST, "Open WebUI answers the provider's own /models list"),
              _verify_openai),
    Operation("GET", "/openai/models", "inference",
              Shape(MODEL_LIST, "Open WebUI's merged OpenAI model list"), get("/openai/models")),
    Operation("GET", "/openai/models/{url_idx}", "inference",
              Shape(MODEL_LIST, "Open WebUI answers the connection's own /models list"),
              get("/openai/models/0")),
    Operation("POST", "/openai/chat/completions", "inference",
              Shape(COMPLETION, "OpenAI's chat completion, as Open WebUI passes it on"),
              lambda w: w.client.post("/openai/chat/completions", headers=w.bearer(), json={
                  "model": MODEL, "messages": [{"role": "user", "content": "hi"}]})),
    *[Operation(method, "/openai/{path}", "inference", DENIED, _as_user(method, "/openai/files"),
                label="a user, passthrough off", status=403)
      for method in ("GET", "POST", "PUT", "DELETE")],
    Operation("GET", "/ollama/config", "inference",
              Shape(OLLAMA_CONFIG, "Open WebUI's Ollama connections config"),
              get("/ollama/config")),
    Operation("POST", "/ollama/config/update", "inference",
              Shape(OLLAMA_CONFIG, "Open WebUI answers the config as stored"),
              _update("/ollama/config/update", "/ollama/config")),
    Operation("POST", "/ollama/verify", "inference",
              Shape({"version": "0.0.0"}, "Open WebUI answers the server's /api/version"),
              lambda w: w.client.post("/ollama/verify", headers=w.bearer(),
                                      json={"url": w.stack.fakes["ollama"].url})),
]
