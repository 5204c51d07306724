"""What every provider offers the service: requests to build, answers to read.

A provider knows its protocol only; which connection, balancing, failover and streaming to the
client live in `calls.py`. Upstream bodies are read through aiohttp (see `upstreams.py`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiohttp


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    method: str
    path: str
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class ProviderModel:
    """A model as a provider lists it; `raw` is the provider's own entry."""

    id: str
    created: int = 0
    owned_by: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class StreamBroken(Exception):
    """The provider reported an error, or went away, after the answer had started."""


class StreamStalled(StreamBroken):
    """The provider sent nothing for the read timeout after its answer had started (say,
    headers and then silence): a timeout, 504, when it happens before the first event."""


def broken_off(exc: BaseException) -> StreamBroken:
    """What a provider's stream raises when reading it failed with `exc`."""
    kind = StreamStalled if isinstance(exc, TimeoutError) else StreamBroken
    return kind(f"the provider broke off its answer ({type(exc).__name__})")


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sse(value: object) -> bytes:
    return b"data: " + dumps(value) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


def error_message(body: bytes, fallback: str) -> str:
    """The message in a provider's error body: OpenAI's `{"error": {"message"}}`, Ollama's
    `{"error": "..."}`, FastAPI's `{"detail"}`, or the text itself."""
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode(errors="replace").strip()
        return text[:500] or fallback
    if isinstance(data, dict):
        error = data.get("error", data.get("detail"))
        if isinstance(error, dict):
            error = error.get("message")
        if error:
            return str(error)[:500]
    return fallback


class Provider(ABC):
    kind: ClassVar[str]

    @abstractmethod
    def headers(self, api_key: str | None) -> dict[str, str]:
        """Headers sent on every request to this provider."""

    @abstractmethod
    def models_request(self) -> UpstreamRequest: ...

    @abstractmethod
    def parse_models(self, data: Any) -> list[ProviderModel]: ...

    @abstractmethod
    def chat_request(self, body: dict[str, Any], model: str) -> UpstreamRequest:
        """The provider's request for an OpenAI chat completion body."""

    @abstractmethod
    async def chat_json(self, response: aiohttp.ClientResponse, model: str) -> bytes:
        """A whole answer, as an OpenAI `chat.completion` JSON body."""

    @abstractmethod
    def chat_stream(self, response: aiohttp.ClientResponse, model: str,
                    include_usage: bool) -> AsyncIterator[bytes]:
        """The answer as OpenAI SSE bytes, ending with `data: [DONE]`; raises StreamBroken."""

    @abstractmethod
    def embeddings_request(self, body: dict[str, Any], model: str) -> UpstreamRequest: ...

    @abstractmethod
    async def embeddings_json(self, response: aiohttp.ClientResponse, model: str,
                              encoding: str) -> bytes: ...
