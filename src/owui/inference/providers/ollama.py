"""Ollama providers: OpenAI requests translated to `/api/chat` and `/api/embed`, and back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from owui.inference.providers.base import (
    Provider,
    ProviderModel,
    StreamBroken,
    UpstreamRequest,
    broken_off,
    dumps,
)
from owui.inference.translate import (
    ChunkTranslator,
    from_ollama_chat,
    from_ollama_embed,
    to_ollama_chat,
    to_ollama_embed,
)


def _created(modified_at: object) -> int:
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(str(modified_at)).timestamp())
    except ValueError:
        return 0


class OllamaProvider(Provider):
    kind = "ollama"

    def headers(self, api_key: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if api_key:  # an Ollama behind an authenticating proxy
            headers["Authorization"] = f"Bearer {api_key}"
        return headers

    def models_request(self) -> UpstreamRequest:
        return UpstreamRequest("GET", "/api/tags")

    def parse_models(self, data: Any) -> list[ProviderModel]:
        items = data.get("models", []) if isinstance(data, dict) else []
        return [ProviderModel(str(m.get("model") or m["name"]), _created(m.get("modified_at")),
                              "ollama", m)
                for m in items if isinstance(m, dict) and (m.get("model") or m.get("name"))]

    def chat_request(self, body: dict[str, Any], model: str) -> UpstreamRequest:
        return UpstreamRequest("POST", "/api/chat", dumps(to_ollama_chat(body, model)))

    async def chat_json(self, response: aiohttp.ClientResponse, model: str) -> bytes:
        return dumps(from_ollama_chat(await response.json(content_type=None), model))

    async def chat_stream(self, response: aiohttp.ClientResponse, model: str,
                          include_usage: bool) -> AsyncIterator[bytes]:
        translator = ChunkTranslator(model, include_usage)
        try:
            async for line in response.content:
                if line.strip():
                    out = translator.feed(json.loads(line))
                    if out:
                        yield out
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise broken_off(exc) from None
        except ValueError:
            raise StreamBroken("the provider sent a line that is not JSON") from None
        if not translator.done:
            raise StreamBroken("the provider ended its answer before it was done")

    def embeddings_request(self, body: dict[str, Any], model: str) -> UpstreamRequest:
        return UpstreamRequest("POST", "/api/embed", dumps(to_ollama_embed(body, model)))

    async def embeddings_json(self, response: aiohttp.ClientResponse, model: str,
                              encoding: str) -> bytes:
        data = await response.json(content_type=None)
        return dumps(from_ollama_embed(data, model, encoding))
