"""The agent's calls to the retrieval service, with the user's token: web search and knowledge
search (built-in tools and workflow steps), and the retrieval step of a run (RAG)."""

from __future__ import annotations

from typing import Any

from owui.core.client import ServiceClient, ServiceFailed
from owui.core.config import Settings

WEB_SEARCH = "/api/v1/retrieval/process/web/search"
SEARCH = "/api/v1/retrieval/search"
RAG = "/api/v1/retrieval/rag"


class RetrievalClient:
    def __init__(self, settings: Settings) -> None:
        self._service = ServiceClient("retrieval", settings)

    async def web_search(self, token: str, query: str, k: int | None = None) -> dict[str, Any]:
        """The pages found for `query` and read: `{"docs": [{"content", "metadata"}, ...]}`."""
        return await self._post(token, WEB_SEARCH, {"queries": [query], **_top(k)})

    async def search(self, token: str, query: str, collection_names: list[str],
                     k: int | None = None) -> dict[str, Any]:
        """Passages of the collections: `{"hits": [{"text", "source", "score"}, ...]}`."""
        return await self._post(token, SEARCH, {"query": query,
                                                "collection_names": collection_names, **_top(k)})

    async def rag(self, token: str, query: str, collection_names: list[str],
                  file_ids: list[str], web_search: bool) -> dict[str, Any]:
        """Open WebUI's retrieval step: `{"prompt", "citations"}` for the user's question."""
        return await self._post(token, RAG, {
            "messages": [{"role": "user", "content": query}],
            "collection_names": collection_names, "file_ids": file_ids,
            "web_search": web_search})

    async def _post(self, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self._service.call("POST", path, token=token, json=body)
        if not isinstance(answer, dict):
            raise ServiceFailed("retrieval", 502, f"The retrieval service answered {path} "
                                                  "with no JSON object.")
        return answer


def _top(k: int | None) -> dict[str, int]:
    return {} if k is None else {"k": k}
