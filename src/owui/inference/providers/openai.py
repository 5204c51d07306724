"""OpenAI-compatible providers: the request goes as it is, the answer comes back as it is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from owui.inference.providers.base import (
    SSE_DONE,
    Provider,
    ProviderModel,
    UpstreamRequest,
    broken_off,
    dumps,
)


class OpenAIProvider(Provider):
    kind = "openai"

    def headers(self, api_key: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        return headers

    def models_request(self) -> UpstreamRequest:
        return UpstreamRequest("GET", "/models")

    def parse_models(self, data: Any) -> list[ProviderModel]:
        items = data.get("data", []) if isinstance(data, dict) else data
        return [ProviderModel(str(m["id"]), int(m.get("created") or 0),
                              str(m.get("owned_by") or "openai"), m)
                for m in items if isinstance(m, dict) and m.get("id")]

    def chat_request(self, body: dict[str, Any], model: str) -> UpstreamRequest:
        return UpstreamRequest("POST", "/chat/completions", dumps({**body, "model": model}))

    async def chat_json(self, response: aiohttp.ClientResponse, model: str) -> bytes:
        return await response.read()

    async def chat_stream(self, response: aiohttp.ClientResponse, model: str,
                          include_usage: bool) -> AsyncIterator[bytes]:
        # Passed through byte for byte: parsing each event would cost more than the hop.
        tail = b""
        try:
            async for chunk in response.content.iter_any():
                yield chunk
                tail = (tail + chunk)[-16:]
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise broken_off(exc) from None
        if b"[DONE]" not in tail:  # e.g. after a provider's own error event: end it cleanly
            yield (b"" if tail.endswith(b"\n\n") else b"\n\n") + SSE_DONE

    def embeddings_request(self, body: dict[str, Any], model: str) -> UpstreamRequest:
        return UpstreamRequest("POST", "/embeddings", dumps({**body, "model": model}))

    async def embeddings_json(self, response: aiohttp.ClientResponse, model: str,
                              encoding: str) -> bytes:
        return await response.read()
