"""The retrieval service's calls to the inference service: embeddings through its
OpenAI-compatible /embeddings (EMBEDDING_ENGINE=ollama|openai), with the user's token."""

from __future__ import annotations

from collections.abc import Sequence

from owui.core.client import ServiceClient, ServiceFailed
from owui.core.config import Settings

PATH = "/api/v1/inference/embeddings"


class InferenceClient:
    def __init__(self, settings: Settings) -> None:
        self._service = ServiceClient("inference", settings)

    async def embed(self, token: str, model: str, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in the order of `texts`."""
        answer = await self._service.call("POST", PATH, token=token,
                                          json={"model": model, "input": list(texts)})
        try:
            rows = sorted(answer["data"], key=lambda item: item["index"])
            vectors = [row["embedding"] for row in rows]
        except (KeyError, TypeError) as exc:
            raise ServiceFailed("inference", 502,
                                f"Malformed embeddings answer: {exc!r}") from None
        if len(vectors) != len(texts):
            raise ServiceFailed("inference", 502, "The embeddings answer has the wrong count.")
        return vectors
