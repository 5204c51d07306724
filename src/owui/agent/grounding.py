"""The retrieval step of a run: before the model, the attached files and collections (and the
web, when asked) are searched with the last user message, and the context goes into the prompt
the way Open WebUI does by default: the last user message becomes the RAG template, the
numbered sources inside it, the question after them. The sources go out as a `citations`
event, so that whoever stores the answer can show them.

A failed search does not fail the turn: a status event says why and the model answers without
the context (a knowledge base that is down should not stop people from chatting).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from owui.agent.tools.base import CallContext
from owui.core.errors import UpstreamError

Event = dict[str, Any]


@dataclass
class Grounding:
    collection_names: list[str] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)
    web_search: bool = False

    def wanted(self) -> bool:
        return bool(self.collection_names or self.file_ids or self.web_search)

    def searching(self) -> str:
        count = len(self.collection_names) + len(self.file_ids)
        where = [f"{count} attached source{'s' if count != 1 else ''}"] if count else []
        return "Searching " + " and ".join([*where, *(["the web"] if self.web_search else [])])


def _text(content: Any) -> str:
    if isinstance(content, list):  # OpenAI content parts: the text ones
        return "\n".join(p.get("text", "") for p in content
                         if isinstance(p, dict) and p.get("type") == "text")
    return content if isinstance(content, str) else ""


def _last_user(messages: list[dict[str, Any]]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return index
    return None


def _status(description: str, done: bool, **extra: Any) -> Event:
    return {"type": "status", "event": {"type": "status", "data": {
        "action": "knowledge_search", "description": description, "done": done, **extra}}}


def sources(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The retrieval service's citations (Open WebUI's `sources` items), each with a short
    list of where its passages come from: name, file id, page, score."""
    for citation in citations:
        citation["passages"] = [
            {"name": m.get("name") or (citation.get("source") or {}).get("name"),
             "file_id": m.get("file_id"), "page": m.get("page"), "score": m.get("score")}
            for m in citation.get("metadata") or []]
    return citations


async def ground(context: CallContext, grounding: Grounding,
                 body: dict[str, Any]) -> AsyncIterator[Event]:
    """Search, then put the context into `body["messages"]`; yields status and citations."""
    messages = list(body.get("messages") or [])
    last = _last_user(messages)
    query = _text(messages[last].get("content")).strip() if last is not None else ""
    if last is None or not query:
        return
    yield _status(grounding.searching(), False, query=query)
    try:
        found = await context.retrieval.rag(context.token, query, grounding.collection_names,
                                            grounding.file_ids, grounding.web_search)
    except UpstreamError as exc:
        yield _status(f"The search failed, answering without it: {exc.detail}", True,
                      error=True)
        return
    citations = sources(found.get("citations") or [])
    if citations and found.get("prompt"):
        messages[last] = {**messages[last], "content": found["prompt"]}
        body["messages"] = messages
        yield {"type": "citations", "sources": citations}
    count = len(citations)
    yield _status(f"Found {count} source{'s' if count != 1 else ''}", True, count=count)
