"""A fork: a new chat holding one branch of another, root to a chosen message (Open WebUI's
`POST /api/v1/chats/{id}/fork`). Only that branch is copied, each message with its one child."""

from __future__ import annotations

import copy
from typing import Any

from owui.chat.errors import MessageNotFound
from owui.chat.limits import MAX_TITLE_CHARS
from owui.core.errors import BadRequestError


class NothingToFork(BadRequestError):
    def __init__(self) -> None:
        super().__init__("chat has no messages to fork")


def _unfinished(message: dict[str, Any]) -> bool:
    """An answer left not done: stale in the fork, unless it waits for a tool's approval."""
    if message.get("role") != "assistant" or message.get("done") is not False:
        return False
    output = message.get("output")
    waiting = isinstance(output, list) and any(
        isinstance(item, dict) and item.get("type") == "function_call"
        and item.get("status") in {"pending", "queued", "requires_approval"} for item in output)
    return not waiting


def branch_of(messages: dict[str, Any], chat_id: str, leaf: str) -> list[dict[str, Any]]:
    """Root to `leaf`, copied, each message's children reduced to the next one."""
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    current: str | None = leaf
    while current:
        message = messages.get(current)
        if not isinstance(message, dict) or current in seen:
            raise MessageNotFound(chat_id, leaf)
        seen.add(current)
        path.append(copy.deepcopy(message))
        current = message.get("parentId")
    path.reverse()
    for index, message in enumerate(path):
        message["parentId"] = path[index - 1]["id"] if index else None
        message["childrenIds"] = [path[index + 1]["id"]] if index + 1 < len(path) else []
        if _unfinished(message):
            message["done"] = True
    return path


def fork_body(source: dict[str, Any], leaf: str | None) -> dict[str, Any]:
    """The new chat's Open WebUI chat object, from the source's ChatResponse."""
    chat = source["chat"]
    history = chat.get("history") or {}
    leaf = leaf or source.get("current_message_id") or history.get("currentId")
    if not leaf or not history.get("messages"):
        raise NothingToFork()
    path = branch_of(history["messages"], source["id"], leaf)
    body = {k: v for k, v in chat.items() if k not in ("currentId", "share_mode")}
    body.update(originalChatId=source["id"], branchPointMessageId=leaf,
                title=f"{source['title']} (fork)"[:MAX_TITLE_CHARS],
                history={"messages": {m["id"]: m for m in path}, "currentId": leaf},
                messages=path)
    return body


def as_reader(body: dict[str, Any], owner_id: str, user_id: str, name: str | None) -> None:
    """A fork of someone else's shared chat: their questions become the forker's."""
    for message in body["history"]["messages"].values():
        if (message.get("user_id") or owner_id) == owner_id:
            message["user_id"] = user_id
            if message.get("role") == "user":
                message["user"] = {"id": user_id, "name": name or ""}
