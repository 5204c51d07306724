"""Anthropic's Messages API said in OpenAI's chat terms, and the answers said back.

`to_openai` turns a Messages request into an OpenAI chat completion body (which the providers
already speak, Ollama's by translate.py); `to_message` turns a whole OpenAI answer into a
Messages answer, and `EventStream` turns OpenAI's SSE chunks into Messages' stream events
(message_start, content_block_start/delta/stop, message_delta, message_stop). Errors are
Anthropic's `{"type": "error", "error": {"type", "message"}}`, with owui's `detail` beside.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from owui.inference.errors import problem

_STOPS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
          "function_call": "tool_use", "content_filter": "refusal"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                422: "invalid_request_error", 429: "rate_limit_error", 503: "overloaded_error",
                504: "timeout_error"}
# Characters per token of the estimate `count_tokens` answers (no tokenizer of the model is
# at hand for every connection; OpenAI's rule of thumb for English).
CHARS_PER_TOKEN = 4


class AnthropicMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class CountTokensRequest(BaseModel):
    """Anthropic's `count_tokens` body: a Messages request without `max_tokens`."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[AnthropicMessage] = Field(min_length=1)
    system: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None


class MessagesRequest(CountTokensRequest):
    """Anthropic's Messages body; what is not named here goes on to the provider as it is."""

    max_tokens: int = Field(ge=1)
    stream: bool = False
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = None
    top_k: int | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None


class Unsupported(ValueError):
    """A Messages request that cannot be said in OpenAI's terms; the message names the field."""


def error_body(status: int, detail: object) -> dict[str, Any]:
    """Anthropic's error, which its SDK reads, with owui's and OpenAI's fields beside it."""
    base = problem(status, detail)
    kind = _ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "detail": base["detail"],
            "error": {**base["error"], "type": kind}}


# Requests


def _text_of(blocks: object) -> str:
    if isinstance(blocks, str):
        return blocks
    parts = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "\n".join(parts)


def _image(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    elif source.get("type") == "url":
        url = str(source.get("url", ""))
    else:
        raise Unsupported(f"{where}.source.type must be base64 or url")
    return {"type": "image_url", "image_url": {"url": url}}


def _document(block: dict[str, Any]) -> dict[str, Any]:
    source = block.get("source") or {}
    text = f"[Document: {block.get('title') or 'document'}]"
    if source.get("type") == "text":
        text += f"\n{source.get('data', '')}"
    else:
        text += "\n" + _text_of(source.get("content"))
    return {"type": "text", "text": text}


def _tool_result(block: dict[str, Any], where: str) -> dict[str, Any]:
    if not block.get("tool_use_id"):
        raise Unsupported(f"{where}.tool_use_id is required")
    content = block.get("content", "")
    text = content if isinstance(content, str) else _text_of(content)
    if block.get("is_error"):
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": block["tool_use_id"], "content": text}


def _tool_call(block: dict[str, Any], where: str) -> dict[str, Any]:
    if not block.get("id") or not block.get("name"):
        raise Unsupported(f"{where}: a tool_use block needs an id and a name")
    return {"id": block["id"], "type": "function",
            "function": {"name": block["name"],
                         "arguments": json.dumps(block.get("input") or {})}}


def _message(message: AnthropicMessage, where: str) -> list[dict[str, Any]]:
    """One Anthropic message: OpenAI's message, after the tool messages its results make."""
    if isinstance(message.content, str):
        return [{"role": message.role, "content": message.content}]
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for index, block in enumerate(message.content):
        at = f"{where}.content[{index}]"
        kind = block.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image":
            parts.append(_image(block, at))
        elif kind == "document":
            parts.append(_document(block))
        elif kind == "tool_use" and message.role == "assistant":
            calls.append(_tool_call(block, at))
        elif kind == "tool_result" and message.role == "user":
            results.append(_tool_result(block, at))
        elif kind in ("thinking", "redacted_thinking"):
            continue  # the model's own earlier reasoning: not sent back to other providers
        else:
            raise Unsupported(f"{at}: block type {kind!r} is not supported in a "
                              f"{message.role} message")
    out: dict[str, Any] = {"role": message.role}
    if all(p["type"] == "text" for p in parts):
        out["content"] = "\n".join(p["text"] for p in parts)
    else:
        out["content"] = parts
    if calls:
        out["tool_calls"] = calls
    keep = bool(calls or parts or message.role == "assistant")
    return [*results, *([out] if keep else [])]


def _tool(tool: dict[str, Any], where: str) -> dict[str, Any]:
    if not tool.get("name"):
        raise Unsupported(f"{where}.name is required")
    if tool.get("type") not in (None, "custom"):
        raise Unsupported(f"{where}: server tool {tool['type']!r} is not available here")
    return {"type": "function", "function": {
        "name": tool["name"], "description": tool.get("description", ""),
        "parameters": tool.get("input_schema") or {"type": "object", "properties": {}}}}


def _tool_choice(choice: dict[str, Any]) -> object:
    kind = choice.get("type")
    if kind == "tool":
        return {"type": "function", "function": {"name": choice.get("name", "")}}
    return {"auto": "auto", "any": "required", "none": "none"}.get(str(kind), "auto")


def _messages(form: CountTokensRequest) -> list[dict[str, Any]]:
    system = _text_of(form.system) if form.system else ""
    out = [{"role": "system", "content": system}] if system else []
    for index, message in enumerate(form.messages):
        out += _message(message, f"messages[{index}]")
    return out


def _tools(form: CountTokensRequest) -> list[dict[str, Any]]:
    return [_tool(tool, f"tools[{i}]") for i, tool in enumerate(form.tools or [])]


def to_openai(form: MessagesRequest) -> dict[str, Any]:
    """The OpenAI chat completion body of a Messages request."""
    body: dict[str, Any] = {"model": form.model, "messages": _messages(form),
                            "max_tokens": form.max_tokens, "stream": form.stream}
    if form.stream:
        body["stream_options"] = {"include_usage": True}
    for name in ("temperature", "top_p", "top_k"):
        if getattr(form, name) is not None:
            body[name] = getattr(form, name)
    if form.stop_sequences:
        body["stop"] = form.stop_sequences
    tools = _tools(form)
    if tools:
        body["tools"] = tools
    if form.tool_choice:
        body["tool_choice"] = _tool_choice(form.tool_choice)
        if form.tool_choice.get("disable_parallel_tool_use"):
            body["parallel_tool_calls"] = False
    if form.thinking and form.thinking.get("type") in ("enabled", "adaptive"):
        body["think"] = True  # Ollama's switch; the answer's reasoning comes back as thinking
    user = (form.model_extra or {}).get("metadata")
    if isinstance(user, dict) and user.get("user_id"):
        body["user"] = str(user["user_id"])
    return body


def count_tokens(form: CountTokensRequest) -> int:
    """An estimate of the input tokens: the characters of what the model would read."""
    text = json.dumps(_messages(form), ensure_ascii=False)
    tools = _tools(form)
    if tools:
        text += json.dumps(tools, ensure_ascii=False)
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


# Answers


def message_id() -> str:
    return f"msg_{uuid.uuid4().hex[:24]}"


def _arguments(raw: object) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw.strip() else {}
    except ValueError:
        return {"arguments": raw}
    return value if isinstance(value, dict) else {"value": value}


def _usage(usage: object, input_tokens: int) -> dict[str, int]:
    usage = usage if isinstance(usage, dict) else {}
    return {"input_tokens": int(usage.get("prompt_tokens") or input_tokens),
            "output_tokens": int(usage.get("completion_tokens") or 0)}


def to_message(answer: dict[str, Any], model: str, input_tokens: int) -> dict[str, Any]:
    """A whole OpenAI chat completion as a Messages answer."""
    choice = (answer.get("choices") or [{}])[0]
    reply = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if reply.get("reasoning_content"):
        content.append({"type": "thinking", "thinking": reply["reasoning_content"],
                        "signature": ""})
    if reply.get("content"):
        content.append({"type": "text", "text": reply["content"]})
    for call in reply.get("tool_calls") or []:
        function = call.get("function") or {}
        content.append({"type": "tool_use", "id": call.get("id") or f"toolu_{uuid.uuid4().hex}",
                        "name": function.get("name", ""),
                        "input": _arguments(function.get("arguments"))})
    stop = _STOPS.get(choice.get("finish_reason") or "stop", "end_turn")
    return {"id": message_id(), "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": _usage(answer.get("usage"), input_tokens)}


def event(kind: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps({"type": kind, **data}, separators=(",", ":"), ensure_ascii=False)
    return f"event: {kind}\ndata: {payload}\n\n".encode()


def error_event(message: str) -> bytes:
    return event("error", {"error": {"type": "api_error", "message": message}})


class EventStream:
    """OpenAI's chat chunks (SSE bytes, cut anywhere) in, Messages' stream events out."""

    def __init__(self, model: str, input_tokens: int) -> None:
        self.model = model
        self.input_tokens = input_tokens
        self.buffer = b""
        self.block = -1  # index of the open content block; -1: none yet
        self.open_kind: str | None = None
        self.tools: dict[int, int] = {}  # OpenAI tool call index -> content block index
        self.stop = "end_turn"
        self.usage: dict[str, int] = {"input_tokens": input_tokens, "output_tokens": 0}
        self.finished = False

    def start(self) -> bytes:
        return event("message_start", {"message": {
            "id": message_id(), "type": "message", "role": "assistant", "model": self.model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": 0}}})

    def feed(self, chunk: bytes) -> bytes:
        self.buffer += chunk
        out = b""
        while b"\n\n" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\n\n", 1)
            out += self._event(raw)
        return out

    def _event(self, raw: bytes) -> bytes:
        data = b"".join(line[5:].strip() for line in raw.splitlines()
                        if line.startswith(b"data:"))
        if not data or data == b"[DONE]":
            return self.end() if data else b""
        chunk = json.loads(data)
        if chunk.get("error"):
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            return self.fail(str(message))
        if chunk.get("usage"):
            self.usage = _usage(chunk["usage"], self.input_tokens)
        out = b""
        for choice in chunk.get("choices") or []:
            out += self._delta(choice.get("delta") or {})
            if choice.get("finish_reason"):
                self.stop = _STOPS.get(choice["finish_reason"], "end_turn")
        return out

    def _open(self, kind: str, block: dict[str, Any]) -> bytes:
        out = self._close()
        self.block += 1
        self.open_kind = kind
        return out + event("content_block_start", {"index": self.block, "content_block": block})

    def _close(self) -> bytes:
        if self.open_kind is None:
            return b""
        self.open_kind = None
        return event("content_block_stop", {"index": self.block})

    def _delta_event(self, delta: dict[str, Any]) -> bytes:
        return event("content_block_delta", {"index": self.block, "delta": delta})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        out = b""
        if delta.get("reasoning_content"):
            if self.open_kind != "thinking":
                out += self._open("thinking", {"type": "thinking", "thinking": "",
                                               "signature": ""})
            out += self._delta_event({"type": "thinking_delta",
                                      "thinking": delta["reasoning_content"]})
        if delta.get("content"):
            if self.open_kind != "text":
                out += self._open("text", {"type": "text", "text": ""})
            out += self._delta_event({"type": "text_delta", "text": delta["content"]})
        for call in delta.get("tool_calls") or []:
            out += self._tool_delta(call)
        return out

    def _tool_delta(self, call: dict[str, Any]) -> bytes:
        out = b""
        function = call.get("function") or {}
        position = int(call.get("index") or 0)
        if position not in self.tools:
            out += self._open("tool_use", {
                "type": "tool_use", "id": call.get("id") or f"toolu_{uuid.uuid4().hex[:24]}",
                "name": function.get("name", ""), "input": {}})
            self.tools[position] = self.block
        arguments = function.get("arguments")
        if arguments and self.tools[position] == self.block:
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            out += self._delta_event({"type": "input_json_delta", "partial_json": arguments})
        return out

    def fail(self, message: str) -> bytes:
        """An error event that ends the stream: the open block closed first."""
        if self.finished:
            return b""
        self.finished = True
        return self._close() + error_event(message)

    def end(self) -> bytes:
        """The closing events, once; the usage of the provider's last chunk if it sent one."""
        if self.finished:
            return b""
        self.finished = True
        return (self._close()
                + event("message_delta", {"delta": {"stop_reason": self.stop,
                                                    "stop_sequence": None},
                                          "usage": self.usage})
                + event("message_stop", {}))
