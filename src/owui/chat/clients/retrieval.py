"""The chat service's calls to the retrieval service, with the user's token: the vectors of the
user's memories. Chat owns the memory rows; their vectors live in one retrieval collection per
user (`user-memory-<user id>`, a text collection, private to the user by retrieval's own rule),
which only the chat service writes.

Each memory is one document of the collection, named by the memory's id: writing it again
replaces its vectors (retrieval's process/text replaces a document of the same name), and a
deleted memory's vectors are removed with it (retrieval's text/delete, which only the chat
service calls: a text collection is its writer's, so a user's token reaches only their own).
The chat service still answers only hits whose memory row exists (routes/memories.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from owui.core.client import ServiceClient, ServiceFailed, ServiceRefused
from owui.core.config import Settings

PROCESS_TEXT = "/api/v1/retrieval/process/text"
QUERY = "/api/v1/retrieval/query/collection"
DELETE = "/api/v1/retrieval/text/delete"


def collection_of(user_id: str) -> str:
    return f"user-memory-{user_id}"


@dataclass(frozen=True, slots=True)
class Hit:
    name: str  # the document's name: a memory id
    text: str
    score: float


class RetrievalClient:
    def __init__(self, settings: Settings) -> None:
        self._service = ServiceClient("retrieval", settings)

    async def put(self, token: str, user_id: str, name: str, text: str) -> None:
        """The document `name` of the user's memory collection is now `text` (embedded)."""
        await self._service.call("POST", PROCESS_TEXT, token=token, json={
            "name": name, "content": text, "collection_name": collection_of(user_id)})

    async def remove(self, token: str, user_id: str, names: list[str] | None) -> None:
        """The documents `names` leave the user's memory collection (None: all of it). A
        collection never written has nothing to remove."""
        if names == []:
            return
        try:
            await self._service.call("POST", DELETE, token=token, json={
                "collection_name": collection_of(user_id), "names": names})
        except ServiceRefused as refused:
            if refused.status != 404:
                raise

    async def query(self, token: str, user_id: str, text: str, k: int) -> list[Hit]:
        """The user's memory documents nearest `text` (above retrieval's relevance threshold),
        best first; none while the collection was never written."""
        try:
            answer = await self._service.call("POST", QUERY, token=token, json={
                "collection_names": [collection_of(user_id)], "query": text, "k": k,
                "hybrid": False})
        except ServiceRefused as refused:
            if refused.status == 404:  # no memory was ever written
                return []
            raise
        return _hits(answer)


def _hits(answer: Any) -> list[Hit]:
    """Retrieval's Open WebUI-style answer (one inner list per query) as hits."""
    try:
        documents = answer["documents"][0]
        metadatas = answer["metadatas"][0]
        distances = answer["distances"][0]
    except (TypeError, KeyError, IndexError):
        raise ServiceFailed("retrieval", 502, "The retrieval service answered a memory query "
                                              "without documents.") from None
    return [Hit(str((meta or {}).get("name") or ""), str(text), float(score))
            for text, meta, score in zip(documents, metadatas, distances, strict=False)]
