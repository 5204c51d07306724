"""A turn's events on the wire: ours (`event: TYPE` + JSON, as the agent service sends them),
or OpenAI's `chat.completion.chunk`s for `/api/chat/completions`, so that OpenAI-style clients
read the answer; both end with `data: [DONE]`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

Event = dict[str, Any]
DONE = b"data: [DONE]\n\n"


def ours(event: Event) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


def _data(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def openai_encoder(model: str, message_id: str, chat_id: str | None) -> Callable[[Event], bytes]:
    """Events to OpenAI's chunks. Sources, status and tool events ride in chunks without
    choices (Open WebUI sends its sources that way), which OpenAI clients pass over."""
    created = int(time.time())
    head = {"id": f"chatcmpl-{message_id}", "object": "chat.completion.chunk",
            "created": created, "model": model}

    def chunk(delta: dict[str, Any] | None = None, finish: str | None = None,
              **extra: Any) -> bytes:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None,
                                             "finish_reason": finish}]
        return _data({**head, "choices": choices, **extra})

    def encode(event: Event) -> bytes:
        kind = event["type"]
        if kind == "start":
            return chunk({"role": "assistant", "content": ""}, chat_id=chat_id,
                         message_id=message_id)
        if kind == "token":
            return chunk({"content": event.get("content") or ""})
        if kind == "citations":
            return chunk(sources=event.get("sources") or [])
        if kind == "usage":
            return chunk(usage=event.get("usage"))
        if kind == "done":
            message = event.get("message") or {}
            finish = "length" if message.get("finish_reason") == "step_limit" else "stop"
            return chunk({}, finish, status=message.get("status"))
        if kind == "error":
            return _data({"error": {"message": event.get("detail"), "type": "server_error",
                                    "code": event.get("status")}})
        return chunk(event={k: v for k, v in event.items()})  # status, tool_call, tool_result

    return encode


def openai_completion(message: dict[str, Any], model: str, chat_id: str | None) -> dict[str, Any]:
    """A finished turn as OpenAI's `chat.completion` (stream false)."""
    usage = message.get("usage") or {}
    return {"id": f"chatcmpl-{message['id']}", "object": "chat.completion",
            "created": int(time.time()), "model": model, "chat_id": chat_id,
            "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": message.get("content")}}],
            "usage": usage, "sources": message.get("sources") or []}
