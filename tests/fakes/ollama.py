"""A stand-in Ollama server, speaking the real protocol: NDJSON streams on `/api/chat`,
`/api/generate` and `/api/pull` (progress), and `/api/tags`, `/api/show`, `/api/embed`,
`/api/embeddings`, `/api/ps`, `/api/version`, `/api/copy`, `/api/delete` (and `/api/push`,
`/api/create`, streaming like pull), with Ollama's `{"error": "..."}` bodies; a generate
with an empty prompt and `keep_alive` 0 unloads (`done_reason` "unload"). Of Ollama's
OpenAI-compatible API, `/v1/completions` and `/v1/responses` (JSON, or SSE when streamed).
`POST /api/blobs/sha256:<hex>` keeps a blob whose digest matches (else 400, as Ollama).

Switches, for the whole process (environment):
  FAKE_MODELS       ;-separated model names (default: llama-fake:latest;embed-fake:latest)
  FAKE_STATUS       every chat, generate and embed call answers this HTTP error
                    status, while the model list still works
  FAKE_DELAY        seconds before answering anything (a hanging host)
  FAKE_VERSION      the version it reports (default 0.6.5)
and for one call, words in the model name:
  status-NNN  answer HTTP NNN     broken  close the connection mid-stream
  errline     an {"error"} line mid-stream    slow  0.1 s between chunks
  tools       answer with a tool call          echo  answer with the request as JSON
`options.num_predict` sets the number of content chunks (default 8). `GET /stats` counts calls
and streams cut short by the client.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODELS = os.environ.get("FAKE_MODELS", "llama-fake:latest;embed-fake:latest").split(";")
STATUS = int(os.environ.get("FAKE_STATUS") or 0)
DELAY = float(os.environ.get("FAKE_DELAY") or 0)
VERSION = os.environ.get("FAKE_VERSION", "0.6.5")
stats: dict[str, Any] = {"chat": 0, "generate": 0, "embed": 0, "pull": 0, "tags": 0,
                         "streams_finished": 0, "streams_cut": 0, "last_body": None,
                         "deleted": [], "copied": [], "unloaded": [], "blobs": {}, "created": []}
NDJSON = "application/x-ndjson"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)


async def _refusal(request: Request, call: bool = True) -> JSONResponse | None:
    if DELAY:
        await asyncio.sleep(DELAY)
    if STATUS and call:
        return _error(STATUS, f"fake ollama forced to fail with {STATUS}")
    return None


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # Ollama refuses what it cannot read, never a 500
        return {}
    return body if isinstance(body, dict) else {}


def _details() -> dict[str, Any]:
    return {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
            "parameter_size": "1B", "quantization_level": "Q4_0"}


async def tags(request: Request) -> Response:
    stats["tags"] += 1
    if refused := await _refusal(request, call=False):
        return refused
    return JSONResponse({"models": [
        {"name": m, "model": m, "modified_at": "2025-01-01T00:00:00Z", "size": 1000,
         "digest": f"{abs(hash(m)):064x}"[:64], "details": _details()} for m in MODELS]})


async def version(request: Request) -> Response:
    if refused := await _refusal(request, call=False):
        return refused
    return JSONResponse({"version": VERSION})


async def ps(request: Request) -> Response:
    return JSONResponse({"models": [{"name": MODELS[0], "model": MODELS[0], "size": 1000,
                                     "digest": "0" * 64, "details": _details(),
                                     "expires_at": _now(), "size_vram": 0}]})


async def show(request: Request) -> Response:
    if refused := await _refusal(request, call=False):
        return refused
    body = await _body(request)
    name = body.get("model") or body.get("name")
    if name not in MODELS:
        return _error(404, f"model '{name}' not found")
    return JSONResponse({"modelfile": f"FROM {name}", "parameters": "temperature 0.7",
                         "template": "{{ .Prompt }}", "details": _details(),
                         "model_info": {"general.architecture": "llama"},
                         "capabilities": ["completion", "tools"], "modified_at": _now()})


def _words(body: dict[str, Any]) -> list[str]:
    if "echo" in str(body.get("model")):
        return [json.dumps(body)]
    count = int((body.get("options") or {}).get("num_predict") or 8)
    images = sum(len(m.get("images") or []) for m in body.get("messages") or [])
    return ([f"saw{images}images "] if images else []) + [f"word{i} " for i in range(count)]


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode() + b"\n"


def _final(model: str, words: int, key: str) -> dict[str, Any]:
    final = {"model": model, "created_at": _now(), "done": True, "done_reason": "stop",
             "total_duration": 1000, "load_duration": 10, "prompt_eval_count": 5,
             "prompt_eval_duration": 100, "eval_count": words, "eval_duration": 500}
    if key == "message":
        final["message"] = {"role": "assistant", "content": ""}
    else:
        final["response"] = ""
    return final


def _piece(key: str, text: str, model: str) -> dict[str, Any]:
    value: object = {"role": "assistant", "content": text} if key == "message" else text
    return {"model": model, "created_at": _now(), key: value, "done": False}


def _tool_calls() -> list[dict[str, Any]]:
    return [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]


async def _stream(body: dict[str, Any], key: str) -> AsyncIterator[bytes]:
    model = str(body["model"])
    words = _words(body)
    finished = False
    try:
        if "tools" in model and key == "message":
            yield _line({"model": model, "created_at": _now(), "done": False,
                         "message": {"role": "assistant", "content": "",
                                     "tool_calls": _tool_calls()}})
        for index, word in enumerate(words):
            if index == 3 and "broken" in model:
                raise ConnectionAbortedError("fake ollama breaks off the stream")
            if index == 3 and "errline" in model:
                yield _line({"error": "fake ollama failed mid-stream"})
                return
            if "slow" in model:
                await asyncio.sleep(0.1)
            yield _line(_piece(key, word, model))
        yield _line(_final(model, len(words), key))
        finished = True
    finally:
        stats["streams_finished" if finished else "streams_cut"] += 1


async def _answer(request: Request, key: str) -> Response:
    if refused := await _refusal(request):
        return refused
    body = await _body(request)
    stats["last_body"] = body
    model = str(body.get("model") or "")
    if not model:
        return _error(400, "model is required")
    if forced := re.search(r"status-(\d{3})", model):
        return _error(int(forced[1]), f"fake ollama answers {forced[1]} for this model")
    if body.get("stream", True):
        return StreamingResponse(_stream(body, key), media_type=NDJSON)
    words = _words(body)
    final = _final(model, len(words), key)
    if key == "message":
        final["message"] = {"role": "assistant", "content": "".join(words)}
        if "tools" in model:
            final["message"] = {"role": "assistant", "content": "", "tool_calls": _tool_calls()}
    else:
        final["response"] = "".join(words)
    return JSONResponse(final)


async def chat(request: Request) -> Response:
    stats["chat"] += 1
    return await _answer(request, "message")


async def generate(request: Request) -> Response:
    stats["generate"] += 1
    body = await _body(request)
    if body.get("keep_alive") == 0 and not body.get("prompt"):
        stats["unloaded"].append(body.get("model"))
        return JSONResponse({"model": body.get("model"), "created_at": _now(), "response": "",
                             "done": True, "done_reason": "unload"})
    return await _answer(request, "response")


def _sse(value: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(value).encode() + b"\n\n"


async def _text_events(words: list[str], shape: Callable[[str], dict[str, Any]],
                       done: bytes) -> AsyncIterator[bytes]:
    for word in words:
        yield _sse(shape(word))
    yield done


async def v1_completions(request: Request) -> Response:
    """Ollama's OpenAI-compatible text completion."""
    body = await _body(request)
    stats["last_body"] = body
    model = str(body.get("model") or "")
    if not model or "prompt" not in body:
        return JSONResponse({"error": {"message": "model and prompt are required",
                                       "type": "invalid_request_error"}}, 400)

    def shape(text: str, finish: str | None = None) -> dict[str, Any]:
        return {"id": "cmpl-fake", "object": "text_completion", "created": int(time.time()),
                "model": model, "choices": [{"text": text, "index": 0,
                                             "finish_reason": finish}]}

    words = _words({**body, "options": {"num_predict": body.get("max_tokens")}})
    if body.get("stream"):
        return StreamingResponse(_text_events(words, shape, b"data: [DONE]\n\n"),
                                 media_type="text/event-stream")
    return JSONResponse({**shape("".join(words), "stop"),
                         "usage": {"prompt_tokens": 5, "completion_tokens": len(words),
                                   "total_tokens": 5 + len(words)}})


async def v1_responses(request: Request) -> Response:
    """Ollama's OpenAI-compatible Responses API, in its simplest form: text in, text out."""
    body = await _body(request)
    model = str(body.get("model") or "")
    if not model or "input" not in body:
        return JSONResponse({"error": {"message": "model and input are required",
                                       "type": "invalid_request_error"}}, 400)
    words = _words({**body, "options": {"num_predict": body.get("max_output_tokens")}})
    text = "".join(words)
    answer = {"id": "resp_fake", "object": "response", "created_at": int(time.time()),
              "model": model, "status": "completed", "output": [
                  {"type": "message", "id": "msg_fake", "role": "assistant",
                   "status": "completed",
                   "content": [{"type": "output_text", "text": text, "annotations": []}]}]}
    if not body.get("stream"):
        return JSONResponse(answer)

    def delta(word: str) -> dict[str, Any]:
        return {"type": "response.output_text.delta", "delta": word}

    done = _sse({"type": "response.completed", "response": answer})
    return StreamingResponse(_text_events(words, delta, done), media_type="text/event-stream")


def vector(text: str, size: int = 8) -> list[float]:
    """A deterministic embedding of a text; never all zeros (a multiple of 89 gave one)."""
    seed = sum(text.encode()) or 1
    if seed % 89 == 0:
        seed += 1
    return [((seed * (i + 3)) % 89) / 89.0 for i in range(size)]


async def embed(request: Request) -> Response:
    stats["embed"] += 1
    if refused := await _refusal(request):
        return refused
    body = await _body(request)
    given = body.get("input")
    items = given if isinstance(given, list) else [given]
    if not items or not all(isinstance(i, str) for i in items):
        return _error(400, "invalid input type")
    return JSONResponse({"model": body.get("model"), "embeddings": [vector(t) for t in items],
                         "total_duration": 1000, "load_duration": 10,
                         "prompt_eval_count": sum(len(t.split()) for t in items)})


async def legacy_embeddings(request: Request) -> Response:
    body = await _body(request)
    return JSONResponse({"embedding": vector(str(body.get("prompt", "")))})


async def _progress() -> AsyncIterator[bytes]:
    yield _line({"status": "pulling manifest"})
    total = 4000
    for completed in range(0, total + 1, 1000):
        yield _line({"status": "pulling 0123456789ab", "digest": "sha256:0123456789ab",
                     "total": total, "completed": completed})
        await asyncio.sleep(0.01)
    yield _line({"status": "verifying sha256 digest"})
    yield _line({"status": "success"})


async def pull(request: Request) -> Response:
    stats["pull"] += 1
    body = await _body(request)
    if body.get("stream", True):
        return StreamingResponse(_progress(), media_type=NDJSON)
    return JSONResponse({"status": "success"})


async def create(request: Request) -> Response:
    """As pull answers; the blobs a `files` create names must have been pushed first."""
    body = await _body(request)
    missing = [d for d in (body.get("files") or {}).values() if d not in stats["blobs"]]
    if missing:
        return _error(400, f"blob {missing[0]} not found")
    stats["created"].append(body.get("model"))
    return await pull(request)


async def copy(request: Request) -> Response:
    body = await _body(request)
    if body.get("source") not in MODELS:
        return _error(404, f"model '{body.get('source')}' not found")
    stats["copied"].append(body)
    return Response(status_code=200)


async def delete(request: Request) -> Response:
    body = await _body(request)
    name = body.get("model") or body.get("name")
    if name not in MODELS:
        return _error(404, f"model '{name}' not found")
    stats["deleted"].append(name)
    return Response(status_code=200)


async def blob(request: Request) -> Response:
    digest = request.path_params["digest"]
    data = await request.body()
    if digest != "sha256:" + hashlib.sha256(data).hexdigest():
        return _error(400, "digest mismatch")
    stats["blobs"][digest] = len(data)
    return Response(status_code=201)


async def root(_request: Request) -> Response:
    return Response("Ollama is running", media_type="text/plain")


async def get_stats(_request: Request) -> Response:
    return JSONResponse({**stats, "time": time.time()})


app = Starlette(routes=[
    Route("/", root), Route("/healthz", root), Route("/stats", get_stats),
    Route("/api/tags", tags), Route("/api/version", version), Route("/api/ps", ps),
    Route("/api/show", show, methods=["POST"]), Route("/api/chat", chat, methods=["POST"]),
    Route("/api/generate", generate, methods=["POST"]),
    Route("/api/embed", embed, methods=["POST"]),
    Route("/api/embeddings", legacy_embeddings, methods=["POST"]),
    Route("/api/pull", pull, methods=["POST"]), Route("/api/copy", copy, methods=["POST"]),
    # Ollama's push and create answer with the same kind of status stream as pull.
    Route("/api/push", pull, methods=["POST"]), Route("/api/create", create, methods=["POST"]),
    Route("/api/delete", delete, methods=["DELETE"]),
    Route("/api/blobs/{digest}", blob, methods=["POST"]),
    Route("/v1/completions", v1_completions, methods=["POST"]),
    Route("/v1/responses", v1_responses, methods=["POST"]),
])
