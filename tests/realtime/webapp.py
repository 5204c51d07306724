"""The 0.12 web app's turn as the tests send it: its body (the samples file's, with fresh ids),
and what was heard, grouped to compare with Open WebUI's own events (tests/support/conformance:
every key, same types)."""

from __future__ import annotations

import uuid
from typing import Any

DELTA = "response:completion"
EVENTS = "socket.io 'events' received during the turn"


def app_body(session_id: str, content: str, *, model: str = "gpt-fake",
             chat_id: str | None = None, parent_id: str | None = None,
             **extra: Any) -> dict[str, Any]:
    """The app's body (`sendMessageSocket`) for a new message, ids chosen as the app does."""
    user_id, answer_id = str(uuid.uuid4()), str(uuid.uuid4())
    body: dict[str, Any] = {
        "stream": True, "model": model, "params": {}, "files": None, "tool_ids": None,
        "features": {"web_search": False}, "variables": {}, "session_id": session_id,
        "id": answer_id, "parent_id": parent_id,
        "user_message": {"id": user_id, "parentId": parent_id, "childrenIds": [answer_id],
                         "role": "user", "content": content, "timestamp": 1764892800,
                         "models": [model]},
        "background_tasks": {"title_generation": True, "tags_generation": True,
                             "follow_up_generation": True}, **extra}
    if chat_id is not None:
        body["chat_id"] = chat_id
    return body


def _name(event: dict[str, Any]) -> str:
    data = event["data"]
    delta = data["type"] == DELTA and data["data"].get("type") == "response.output_text.delta"
    return "delta" if delta else data["type"]


def grouped(events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(type, event) for each event, a run of token deltas as one, its first (the number of
    tokens differs from the sample's)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for event in events:
        name = _name(event)
        if not (name == "delta" and out and out[-1][0] == "delta"):
            out.append((name, event))
    return out


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [name for name, _ in grouped(events)]
