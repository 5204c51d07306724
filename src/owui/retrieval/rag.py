"""The context block to put before the model, and the citations to show with the answer."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from owui.retrieval.search import hit_metadata
from owui.retrieval.template import TEMPLATE
from owui.retrieval.vectors import Hit


def last_user_message(messages: Sequence[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _text_of(content: Any) -> str:
    """A message's content as text, also for the list-of-parts form (text parts only)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content
                         if isinstance(part, dict) and part.get("type") == "text")
    return ""


def _source_key(hit: Hit) -> str:
    return str(hit.meta.get("url") or hit.file_id)


def fill(template: str, context: str, query: str) -> str:
    """The admin's template (Open WebUI's `{{CONTEXT}}`/`{{QUERY}}`, or owui's own)."""
    if "{{CONTEXT}}" in template or "{{QUERY}}" in template:
        return template.replace("{{CONTEXT}}", context).replace("{{QUERY}}", query)
    return template.replace("{context}", context).replace("{query}", query)


def build(query: str, hits: Sequence[Hit], template: str = TEMPLATE) -> dict[str, Any]:
    """Sources numbered in order of first appearance; each cites its chunks."""
    numbers: dict[str, int] = {}
    citations: list[dict[str, Any]] = []
    blocks: list[str] = []
    for hit in hits:
        key = _source_key(hit)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            citations.append({"id": numbers[key], "source": _source(hit), "document": [],
                              "metadata": [], "distances": []})
        citation = citations[numbers[key] - 1]
        citation["document"].append(hit.text)
        citation["metadata"].append(hit_metadata(hit))
        citation["distances"].append(hit.score)
        name = escape(str(hit.meta.get("name") or hit.meta.get("source") or key), quote=True)
        blocks.append(f'<source id="{numbers[key]}" name="{name}">{hit.text}</source>')
    context = "\n".join(blocks)
    return {"query": query, "context": context,
            "prompt": fill(template or TEMPLATE, context, query) if hits else "",
            "citations": citations}


def _source(hit: Hit) -> dict[str, Any]:
    source = {"id": hit.file_id, "name": hit.meta.get("name") or hit.meta.get("source")}
    if hit.meta.get("url"):
        source["url"] = hit.meta["url"]
        source["type"] = "web"
    else:
        source["type"] = "file"
    return source
