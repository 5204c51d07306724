"""A stand-in OpenAI-compatible provider, speaking the real protocol: `/v1/models`,
`/v1/chat/completions` (JSON, or SSE ending `data: [DONE]`, with usage and tool calls) and
`/v1/embeddings` (floats or base64), with OpenAI's error bodies.

Switches, for the whole process (environment):
  FAKE_MODELS       ;-separated model ids (default: gpt-fake;gpt-fake-tools;text-embedding-fake)
  FAKE_API_KEY      requests must carry `Authorization: Bearer <it>`, else 401
  FAKE_STATUS       every chat and embeddings call answers this HTTP error status,
                    while the model list still works (a broken provider that looks fine)
  FAKE_DELAY        seconds before answering anything, model list included (a hanging one)
  FAKE_CHUNK_DELAY  seconds between streamed chunks (default 0)
  FAKE_WORDS        content chunks in an answer when the request sets no max_tokens (default 8):
                    with FAKE_CHUNK_DELAY, an answer that streams long enough to watch it
and for one call, words in the model name:
  status-NNN   answer HTTP NNN before anything     broken    close the connection mid-stream
  errevent     an SSE error event mid-stream         slow      0.1 s between chunks
  hang         never answer (no status line)         stall     stream headers, then nothing
  tools        answer with a tool call               echo      answer with the request as JSON
  agent        follow directives in the last user message: each `call: NAME {json args}` line
               becomes a tool call (all in one answer, when the request offers tools), and
               `reply: TEXT` is the answer; once tool results follow that message, the answer
               is `Tool results: ` and their contents joined by ` | `
`max_tokens` sets the number of streamed content chunks (default 8). `GET /stats` counts calls
and streams cut short by the client.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import struct
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODELS = os.environ.get("FAKE_MODELS", "gpt-fake;gpt-fake-tools;text-embedding-fake").split(";")
API_KEY = os.environ.get("FAKE_API_KEY")
STATUS = int(os.environ.get("FAKE_STATUS") or 0)
DELAY = float(os.environ.get("FAKE_DELAY") or 0)
CHUNK_DELAY = float(os.environ.get("FAKE_CHUNK_DELAY") or 0)
WORDS = int(os.environ.get("FAKE_WORDS") or 8)
stats = {"chat": 0, "embeddings": 0, "models": 0, "streams_finished": 0, "streams_cut": 0,
         "last_body": None}


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None,
                                   "code": None}}, status)


async def _refusal(request: Request, call: bool = True) -> JSONResponse | None:
    """The process-wide switches: delay, key check, forced status (calls only)."""
    if DELAY:
        await asyncio.sleep(DELAY)
    if API_KEY and request.headers.get("authorization") != f"Bearer {API_KEY}":
        return _error(401, "Incorrect API key provided.", "invalid_api_key")
    if STATUS and call:
        return _error(STATUS, f"fake provider forced to fail with {STATUS}", "server_error")
    return None


async def models(request: Request) -> Response:
    stats["models"] += 1
    if refused := await _refusal(request, call=False):
        return refused
    return JSONResponse({"object": "list", "data": [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
        for m in MODELS]})


def _usage(body: dict[str, Any], completion: int) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _tool_call() -> dict[str, Any]:
    return {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}


def _words(body: dict[str, Any]) -> list[str]:
    if "echo" in body["model"]:
        return [json.dumps(body)]
    count = int(body.get("max_tokens") or body.get("max_completion_tokens") or WORDS)
    return [f"word{i} " for i in range(count)]


_CALL = re.compile(r"\bcall:\s*(\S+)\s*(.*)$")
_REPLY = re.compile(r"\breply:\s*(.+)$")


def _agent(body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The `agent` switch: (content, tool calls) from the directives of the last user message."""
    messages = body.get("messages") or []
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    last = users[-1] if users else -1
    results = [str(m.get("content")) for m in messages[last + 1:] if m.get("role") == "tool"]
    if results:
        return "Tool results: " + " | ".join(results), []
    calls, reply = [], None
    for line in str(messages[last].get("content") or "").splitlines() if users else []:
        if match := _CALL.search(line):
            calls.append({"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                          "function": {"name": match[1], "arguments": match[2] or "{}"}})
        elif match := _REPLY.search(line):
            reply = match[1].strip()
    if calls and body.get("tools"):
        return None, calls
    return reply or "no directive", []


async def _agent_stream(body: dict[str, Any]) -> AsyncIterator[bytes]:
    model, ident = body["model"], f"chatcmpl-{uuid.uuid4().hex}"
    content, calls = _agent(body)
    yield _chunk(ident, model, {"role": "assistant", "content": ""}, None)
    for index, word in enumerate(content.split(" ") if content else []):
        yield _chunk(ident, model, {"content": (" " if index else "") + word}, None)
    for index, call in enumerate(calls):  # OpenAI sends the arguments in pieces
        arguments = call["function"]["arguments"]
        head = {"index": index, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""}}
        yield _chunk(ident, model, {"tool_calls": [head]}, None)
        for piece in (arguments[:len(arguments) // 2], arguments[len(arguments) // 2:]):
            yield _chunk(ident, model, {"tool_calls": [
                {"index": index, "function": {"arguments": piece}}]}, None)
    yield _chunk(ident, model, {}, "tool_calls" if calls else "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": model, "choices": [], "usage": _usage(body, 1)}
        yield b"data: " + json.dumps(usage).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"
    stats["streams_finished"] += 1


def _chunk(ident: str, model: str, delta: dict[str, Any], finish: str | None) -> bytes:
    payload = {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
               "model": model, "system_fingerprint": "fp_fake",
               "choices": [{"index": 0, "delta": delta, "logprobs": None,
                            "finish_reason": finish}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


async def _stream(body: dict[str, Any]) -> AsyncIterator[bytes]:
    model, ident = body["model"], f"chatcmpl-{uuid.uuid4().hex}"
    pause = 0.1 if "slow" in model else CHUNK_DELAY
    words = _words(body)
    finished = False
    try:
        yield _chunk(ident, model, {"role": "assistant", "content": ""}, None)
        if "tools" in model:
            call = _tool_call()
            yield _chunk(ident, model, {"tool_calls": [{"index": 0, **call}]}, None)
        for index, word in enumerate(words):
            if index == 3 and "broken" in model:
                raise ConnectionAbortedError("fake provider breaks off the stream")
            if index == 3 and "errevent" in model:
                yield b'data: {"error": {"message": "fake provider failed mid-stream", ' \
                      b'"type": "server_error"}}\n\n'
                return
            if pause:
                await asyncio.sleep(pause)
            yield _chunk(ident, model, {"content": word}, None)
        yield _chunk(ident, model, {}, "tool_calls" if "tools" in model else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model, "choices": [], "usage": _usage(body, len(words))}
            yield b"data: " + json.dumps(usage).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"
        finished = True
    finally:
        stats["streams_finished" if finished else "streams_cut"] += 1


async def _stall() -> AsyncIterator[bytes]:
    """Headers sent, then not a byte: a provider stuck after accepting the request."""
    await asyncio.Event().wait()
    yield b""


async def chat(request: Request) -> Response:
    stats["chat"] += 1
    if refused := await _refusal(request):
        return refused
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "We could not parse the JSON body of your request.")
    stats["last_body"] = body
    model = str(body.get("model") or "")
    if not model or not body.get("messages"):
        return _error(400, "'model' and 'messages' are required.")
    if forced := re.search(r"status-(\d{3})", model):
        return _error(int(forced[1]), f"fake provider answers {forced[1]} for this model")
    if "hang" in model:
        await asyncio.Event().wait()  # until the caller gives up and closes the connection
    if "stall" in model:
        return StreamingResponse(_stall(), media_type="text/event-stream")
    if body.get("stream"):
        stream = _agent_stream(body) if "agent" in model else _stream(body)
        return StreamingResponse(stream, media_type="text/event-stream")
    words = _words(body)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(words), "refusal": None}
    if "agent" in model:
        content, calls = _agent(body)
        message = {"role": "assistant", "content": content, "refusal": None,
                   **({"tool_calls": calls} if calls else {})}
    elif "tools" in model:
        message = {"role": "assistant", "content": None, "tool_calls": [_tool_call()]}
    return JSONResponse({
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
        "created": int(time.time()), "model": model, "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
        "usage": _usage(body, len(words))})


def vector(text: str, size: int = 8) -> list[float]:
    """A deterministic embedding of a text; never all zeros (a text whose bytes sum to a
    multiple of 97 gave one: no direction, so no search ever found it)."""
    seed = sum(text.encode()) or 1
    if seed % 97 == 0:
        seed += 1
    return [((seed * (i + 7)) % 97) / 97.0 for i in range(size)]


async def embeddings(request: Request) -> Response:
    stats["embeddings"] += 1
    if refused := await _refusal(request):
        return refused
    body = await request.json()
    given = body.get("input")
    items = given if isinstance(given, list) else [given]
    if not items or not all(isinstance(i, str) for i in items):
        return _error(400, "'input' must be a string or a list of strings.")
    size = int(body.get("dimensions") or 8)
    data = []
    for index, text in enumerate(items):
        floats = vector(text, size)
        embedding: object = floats
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack(f"<{size}f", *floats)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(len(t.split()) for t in items)
    return JSONResponse({"object": "list", "data": data, "model": body.get("model"),
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def get_stats(_request: Request) -> Response:
    return JSONResponse(stats)


app = Starlette(routes=[
    Route("/healthz", healthz), Route("/stats", get_stats),
    Route("/v1/models", models), Route("/v1/chat/completions", chat, methods=["POST"]),
    Route("/v1/embeddings", embeddings, methods=["POST"]),
])
