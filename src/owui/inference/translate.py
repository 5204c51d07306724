"""OpenAI's chat and embeddings formats to Ollama's (`/api/chat`, `/api/embed`) and back."""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from typing import Any

from owui.inference.providers.base import SSE_DONE, StreamBroken, sse

# OpenAI parameter (or Ollama option given at the top level) -> Ollama option.
_OPTIONS = {
    "temperature": "temperature", "top_p": "top_p", "seed": "seed", "stop": "stop",
    "frequency_penalty": "frequency_penalty", "presence_penalty": "presence_penalty",
    "max_tokens": "num_predict", "max_completion_tokens": "num_predict",
    **{k: k for k in ("top_k", "min_p", "num_ctx", "num_predict", "repeat_penalty",
                      "repeat_last_n", "mirostat", "mirostat_eta", "mirostat_tau", "tfs_z",
                      "typical_p", "num_keep", "num_batch", "num_gpu", "num_thread",
                      "use_mmap", "use_mlock")},
}


class TranslationError(ValueError):
    """An OpenAI request that cannot be said in Ollama's terms; the message names the field."""


def _image(url: str, where: str) -> str:
    if url.startswith("data:"):
        _, _, data = url.partition(",")
        return data
    if url.startswith(("http://", "https://")):
        raise TranslationError(f"{where}: Ollama models take images inline; send a data: URL")
    return url  # already bare base64


def _arguments(raw: object, where: str) -> object:
    if not isinstance(raw, str):
        return raw or {}
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise TranslationError(f"{where}.function.arguments is not valid JSON") from None


def _content(content: object, where: str) -> tuple[str, list[str]]:
    if not isinstance(content, list):
        return ("" if content is None else str(content)), []
    texts: list[str] = []
    images: list[str] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url", "") if isinstance(image, dict) else str(image or "")
            images.append(_image(url, f"{where}.content[{index}].image_url"))
        else:
            raise TranslationError(f"{where}.content[{index}]: type {kind!r} is not supported "
                                   "for Ollama models (use text or image_url)")
    return "\n".join(texts), images


def to_ollama_message(message: dict[str, Any], where: str,
                      tool_names: dict[str, str]) -> dict[str, Any]:
    role = "system" if message.get("role") == "developer" else message.get("role")
    text, images = _content(message.get("content"), where)
    out: dict[str, Any] = {"role": role, "content": text}
    given = message.get("images")
    if images or isinstance(given, list):
        out["images"] = [*images, *(given if isinstance(given, list) else [])]
    calls = message.get("tool_calls") or []
    if calls:
        out["tool_calls"] = []
        for index, call in enumerate(calls):
            call_where = f"{where}.tool_calls[{index}]"
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict):
                raise TranslationError(f"{call_where}.function must be an object with a name")
            out["tool_calls"].append({"function": {
                "name": function.get("name", ""),
                "arguments": _arguments(function.get("arguments"), call_where)}})
            if call.get("id"):
                tool_names[call["id"]] = function.get("name", "")
    if role == "tool" and message.get("tool_call_id") in tool_names:
        out["tool_name"] = tool_names[message["tool_call_id"]]
    if message.get("thinking"):
        out["thinking"] = message["thinking"]
    return out


def _format(response_format: object) -> object:
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_object":
        return "json"
    if response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema") or {}
        return schema.get("schema", schema)
    return None


def options_from(body: dict[str, Any]) -> dict[str, Any]:
    options = {_OPTIONS[key]: value for key, value in body.items()
               if key in _OPTIONS and value is not None}
    if isinstance(options.get("stop"), str):
        options["stop"] = [options["stop"]]
    options.update(body.get("options") or {})
    return options


def to_ollama_chat(body: dict[str, Any], model: str) -> dict[str, Any]:
    tool_names: dict[str, str] = {}
    messages = [to_ollama_message(m, f"messages[{i}]", tool_names)
                for i, m in enumerate(body.get("messages") or [])]
    out: dict[str, Any] = {"model": model, "messages": messages,
                           "stream": bool(body.get("stream"))}
    options = options_from(body)
    if options:
        out["options"] = options
    if body.get("tools"):
        out["tools"] = body["tools"]
    fmt = _format(body.get("response_format")) or body.get("format")
    if fmt:
        out["format"] = fmt
    for key in ("keep_alive", "think"):
        if body.get(key) is not None:
            out[key] = body[key]
    return out


def _tool_calls(calls: list[dict[str, Any]] | None, start: int = 0) -> list[dict[str, Any]]:
    out = []
    for offset, call in enumerate(calls or []):
        function = call.get("function") or {}
        arguments = function.get("arguments", {})
        out.append({"index": start + offset, "id": f"call_{uuid.uuid4().hex[:24]}",
                    "type": "function",
                    "function": {"name": function.get("name", ""),
                                 "arguments": arguments if isinstance(arguments, str)
                                 else json.dumps(arguments)}})
    return out


def _finish(done_reason: object) -> str:
    return "length" if done_reason == "length" else "stop"


def usage(data: dict[str, Any]) -> dict[str, int]:
    prompt = int(data.get("prompt_eval_count") or 0)
    completion = int(data.get("eval_count") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def from_ollama_chat(data: dict[str, Any], model: str) -> dict[str, Any]:
    reply = data.get("message") or {}
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("content", "")}
    if reply.get("thinking"):
        message["reasoning_content"] = reply["thinking"]
    calls = _tool_calls(reply.get("tool_calls"))
    for call in calls:
        call.pop("index")
    if calls:
        message["tool_calls"] = calls
    return {
        "id": completion_id(), "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": "tool_calls" if calls else _finish(data.get("done_reason"))}],
        "usage": usage(data),
    }


class ChunkTranslator:
    """Ollama's NDJSON stream of `/api/chat`, one line at a time, to OpenAI's SSE chunks."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage
        self.id = completion_id()
        self.created = int(time.time())
        self.started = False
        self.tools = 0
        self.done = False

    def _chunk(self, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish}]}

    def feed(self, data: dict[str, Any]) -> bytes:
        if data.get("error"):
            raise StreamBroken(str(data["error"]))
        reply = data.get("message") or {}
        delta: dict[str, Any] = {}
        if not self.started:
            delta["role"] = "assistant"
            self.started = True
        if reply.get("content"):
            delta["content"] = reply["content"]
        if reply.get("thinking"):
            delta["reasoning_content"] = reply["thinking"]
        if reply.get("tool_calls"):
            delta["tool_calls"] = _tool_calls(reply["tool_calls"], self.tools)
            self.tools += len(delta["tool_calls"])
        if not data.get("done"):
            return sse(self._chunk(delta, None)) if delta else b""
        self.done = True
        finish = "tool_calls" if self.tools else _finish(data.get("done_reason"))
        out = sse(self._chunk(delta, finish))
        if self.include_usage:
            out += sse({"id": self.id, "object": "chat.completion.chunk",
                        "created": self.created, "model": self.model, "choices": [],
                        "usage": usage(data)})
        return out + SSE_DONE


def to_ollama_embed(body: dict[str, Any], model: str) -> dict[str, Any]:
    given = body.get("input")
    items = given if isinstance(given, list) else [given]
    if not items or not all(isinstance(item, str) for item in items):
        raise TranslationError("input: Ollama models embed text only (a string or a list of "
                               "strings), not token arrays")
    out: dict[str, Any] = {"model": model, "input": items}
    for key in ("dimensions", "truncate", "keep_alive", "options"):
        if body.get(key) is not None:
            out[key] = body[key]
    return out


def _encode(vector: list[float], encoding: str) -> object:
    if encoding != "base64":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def from_ollama_embed(data: dict[str, Any], model: str, encoding: str) -> dict[str, Any]:
    vectors = data.get("embeddings") or []
    tokens = int(data.get("prompt_eval_count") or 0)
    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": i, "embedding": _encode(v, encoding)}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
