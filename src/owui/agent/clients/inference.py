"""The agent's calls to the inference service, with the user's token: OpenAI-compatible chat
completions (a run makes several, streamed, on the path of every token), and the workspace
model (preset) a run is for, whose knowledge and filters the run uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from owui.core.client import ServiceClient, ServiceFailed, ServiceRefused
from owui.core.config import Settings

PATH = "/api/v1/inference/chat/completions"
PRESET = "/api/v1/models/model"


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

    async def preset(self, token: str, model_id: str) -> dict[str, Any] | None:
        """Open WebUI's model record of that id as the caller may read it (`meta` holds its
        knowledge and filters), or None: the id names a provider's model only, or a preset
        the caller may not read (both 404)."""
        try:
            answer = await self._service.call("GET", PRESET, token=token,
                                              params={"id": model_id})
        except ServiceRefused as exc:
            if exc.status == 404:
                return None
            raise
        return answer if isinstance(answer, dict) else None
