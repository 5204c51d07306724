"""The agent's calls to the inference service: OpenAI-compatible chat completions, made with
the user's token (a run makes several, streamed, on the path of every token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from owui.core.client import ServiceClient, ServiceFailed
from owui.core.config import Settings

PATH = "/api/v1/inference/chat/completions"


class InferenceClient:
    def __init__(self, settings: Settings) -> None:
        self._service = ServiceClient("inference", settings)

    async def complete(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """One non-streamed chat completion."""
        answer = await self._service.call("POST", PATH, token=token,
                                          json={**body, "stream": False})
        if not isinstance(answer, dict):
            raise ServiceFailed("inference", 502, "The model call answered no completion.")
        return answer

    async def stream(self, token: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The chunks of one streamed chat completion; an error sent mid-answer raises."""
        async for chunk in self._service.sse("POST", PATH, token=token,
                                             json={**body, "stream": True}):
            if isinstance(chunk, dict) and chunk.get("error"):
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else None
                raise ServiceFailed("inference", 502,
                                    f"The model failed mid-answer: {message or error}")
            yield chunk
