"""Usage statistics of a chat (Open WebUI's `/api/v1/chats/stats/*` shapes), computed from the
chat as the client sees it (its ChatResponse): message counts and lengths, answer times, the
models that answered, on the whole tree (`history_*`) and on the current branch."""

from __future__ import annotations

from typing import Any


def _length(message: dict[str, Any]) -> int:
    content = message.get("content", "")
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(item.get("text", "")) for item in content
                   if isinstance(item, dict) and item.get("type") == "text")
    return 0


def _average(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _branch(messages: dict[str, Any], leaf: str | None) -> list[dict[str, Any]]:
    path: list[dict[str, Any]] = []
    while leaf and leaf in messages and len(path) <= len(messages):
        path.append(messages[leaf])
        leaf = messages[leaf].get("parentId")
    return path[::-1]


def _count_models(messages: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in messages:
        if message.get("role") == "assistant" and isinstance(message.get("model"), str):
            counts[message["model"]] = counts.get(message["model"], 0) + 1
    return counts


def aggregate(chat: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Open WebUI's AggregateChatStats of a ChatResponse, and its current branch."""
    history = chat["chat"].get("history") or {}
    messages: dict[str, Any] = history.get("messages") or {}
    users = [m for m in messages.values() if m.get("role") == "user"]
    answers = [m for m in messages.values() if m.get("role") == "assistant"]
    times = []
    for answer in answers:
        asked = messages.get(answer.get("parentId") or "")
        if asked and isinstance(answer.get("timestamp"), int) and \
                isinstance(asked.get("timestamp"), int):
            times.append(answer["timestamp"] - asked["timestamp"])
    branch = _branch(messages, history.get("currentId"))
    return {
        "average_response_time": _average(times),
        "average_user_message_content_length": _average([_length(m) for m in users]),
        "average_assistant_message_content_length": _average([_length(m) for m in answers]),
        "models": _count_models(branch), "message_count": len(branch),
        "history_models": _count_models(answers), "history_message_count": len(messages),
        "history_user_message_count": len(users),
        "history_assistant_message_count": len(answers),
    }, branch


def usage(chat: dict[str, Any]) -> dict[str, Any]:
    """Open WebUI's ChatUsageStatsResponse."""
    stats, branch = aggregate(chat)
    last = branch[-1].get("timestamp") if branch else None
    return {"id": chat["id"], **stats, "tags": chat["meta"].get("tags", []),
            "last_message_at": last if isinstance(last, int) else chat["updated_at"],
            "updated_at": chat["updated_at"], "created_at": chat["created_at"]}


def _message_stats(message: dict[str, Any]) -> dict[str, Any]:
    annotation = message.get("annotation") if isinstance(message.get("annotation"), dict) else {}
    rating, tags = annotation.get("rating"), annotation.get("tags")
    return {"id": message.get("id"), "role": message.get("role"), "model": message.get("model"),
            "content_length": _length(message), "token_count": None,
            "timestamp": message.get("timestamp"),
            "rating": rating if isinstance(rating, int) else None,
            "tags": tags if isinstance(tags, list) else None}


def export(chat: dict[str, Any]) -> dict[str, Any]:
    """Open WebUI's ChatStatsExport: the aggregate, and each message's own figures."""
    stats, _ = aggregate(chat)
    history = chat["chat"].get("history") or {}
    messages = history.get("messages") or {}
    return {"id": chat["id"], "user_id": chat["user_id"], "created_at": chat["created_at"],
            "updated_at": chat["updated_at"], "tags": chat["meta"].get("tags", []),
            "stats": stats,
            "chat": {"history": {"messages": {k: _message_stats(m) for k, m in messages.items()},
                                 "currentId": history.get("currentId")}}}
