"""Open WebUI's chat object and message rows, both ways.

In: check a `chat` object (title, history {messages, currentId}, anything else) and turn its
messages into rows, parents before children and siblings in `childrenIds` order (the row order
is how `childrenIds` comes back). Out: assemble `history` and the active branch from rows.

A column holds a field only when the value has the column's type; anything else, and every
field without a column, stays in the message's `extra`, so a round trip gives back what came in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from owui.chat.errors import BrokenTree, InvalidChat, TooLarge
from owui.chat.limits import (
    MAX_CONTENT_CHARS,
    MAX_MESSAGE_ID_CHARS,
    MAX_MESSAGES_PER_CHAT,
    MAX_ROLE_CHARS,
    check_title,
)
from owui.chat.schemas import MessageResponse

CORE_KEYS = frozenset({"id", "parentId", "childrenIds", "role", "content", "model", "timestamp"})
CHAT_ROW_KEYS = frozenset({"title", "history", "messages"})
_BIGINT = 2**63


@dataclass(slots=True)
class MessageIn:
    """A message as stored (columns, and the rest in `extra`)."""

    id: str
    parent_id: str | None
    role: str
    content: str
    model: str | None
    timestamp: int | None
    extra: dict[str, Any] | None

    def columns(self) -> dict[str, Any]:
        return {"id": self.id, "parent_id": self.parent_id, "role": self.role,
                "content": self.content, "model": self.model, "timestamp": self.timestamp,
                "extra": self.extra}


@dataclass(slots=True)
class ChatIn:
    title: str | None  # None: the object has no title
    data: dict[str, Any]  # every other top-level field
    messages: list[MessageIn] | None  # None: the object has no history
    current_id: str | None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -_BIGINT <= value < _BIGINT


def _check_message_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidChat(f"{where}: a message id must be a non-empty string.")
    if len(value) > MAX_MESSAGE_ID_CHARS:
        raise InvalidChat(f"{where}: message id is longer than {MAX_MESSAGE_ID_CHARS} characters.")
    return value


def parse_message(raw: object, key: str | None = None) -> MessageIn:
    """One message of `history.messages` (under `key`), checked; misfits go to `extra`."""
    where = f"message {key!r}" if key is not None else "message"
    if not isinstance(raw, dict):
        raise InvalidChat(f"{where} must be an object.")
    message_id = _check_message_id(raw.get("id", key), where)
    if key is not None and message_id != key:
        raise InvalidChat(f"{where} has id {message_id!r}; history.messages keys must be ids.")
    where = f"message {message_id!r}"
    parent = raw.get("parentId")
    if parent is not None:
        _check_message_id(parent, f"{where}: parentId")
    role = raw.get("role")
    if not isinstance(role, str) or not role or len(role) > MAX_ROLE_CHARS:
        raise InvalidChat(f"{where}: role must be a string of 1 to {MAX_ROLE_CHARS} characters.")
    extra = {k: v for k, v in raw.items() if k not in CORE_KEYS}
    content = raw.get("content", "")
    if isinstance(content, str):
        if len(content) > MAX_CONTENT_CHARS:
            raise TooLarge(f"{where}: content", len(content), MAX_CONTENT_CHARS)
    else:
        extra["content"], content = content, ""
    model = raw.get("model")
    if "model" in raw and not isinstance(model, str):
        extra["model"], model = model, None
    timestamp = raw.get("timestamp")
    if "timestamp" in raw and not _is_int(timestamp):
        extra["timestamp"], timestamp = timestamp, None
    return MessageIn(message_id, parent, role, content, model, timestamp, extra or None)


def order_messages(messages: dict[str, MessageIn],
                   hints: dict[str, list[object]]) -> list[MessageIn]:
    """Parents before children; siblings in the order of the parent's `childrenIds` hint.

    Raises BrokenTree for a parent that is not in the chat and for a cycle.
    """
    children: dict[str | None, list[str]] = {}
    for message in messages.values():
        parent = message.parent_id
        if parent is not None and parent not in messages:
            raise BrokenTree(f"message {message.id!r} has parentId {parent!r}, which is not "
                             "a message of this chat.")
        children.setdefault(parent, []).append(message.id)
    ordered: list[MessageIn] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        message_id = stack.pop()
        ordered.append(messages[message_id])
        kids = children.get(message_id, [])
        if len(kids) > 1:
            known = set(kids)
            hint = (k for k in hints.get(message_id, ()) if isinstance(k, str) and k in known)
            hinted = list(dict.fromkeys(hint))
            placed = set(hinted)
            kids = hinted + [k for k in kids if k not in placed]
        stack.extend(reversed(kids))
    if len(ordered) < len(messages):
        placed = {m.id for m in ordered}
        stuck = next(m for m in messages if m not in placed)
        raise BrokenTree(f"the message tree has a cycle through message {stuck!r}.")
    return ordered


def _history_messages(history: object) -> tuple[dict[str, object], object]:
    if not isinstance(history, dict):
        raise InvalidChat("chat.history must be an object with messages and currentId.")
    raw = history.get("messages") or {}
    if not isinstance(raw, dict):
        raise InvalidChat("chat.history.messages must be an object keyed by message id.")
    return raw, history.get("currentId")


def _legacy_messages(items: object) -> tuple[dict[str, object], object]:
    """A chat with only Open WebUI's old flat `messages` list: a chain, unless parents given."""
    if not isinstance(items, list):
        raise InvalidChat("chat.messages must be a list.")
    chained = not any(isinstance(m, dict) and "parentId" in m for m in items)
    raw: dict[str, object] = {}
    previous = None
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise InvalidChat(f"chat.messages[{index}] must be an object with a string id.")
        raw[item["id"]] = {**item, "parentId": previous} if chained else item
        previous = item["id"]
    return raw, previous


def parse_chat(chat: dict[str, Any]) -> ChatIn:
    title = check_title(chat["title"]) if "title" in chat else None
    data = {k: v for k, v in chat.items() if k not in CHAT_ROW_KEYS}
    if chat.get("history") is not None:
        raw, current = _history_messages(chat["history"])
    elif chat.get("messages"):
        raw, current = _legacy_messages(chat["messages"])
    else:
        return ChatIn(title, data, None, None)
    if len(raw) > MAX_MESSAGES_PER_CHAT:
        raise TooLarge("chat.history.messages", len(raw), MAX_MESSAGES_PER_CHAT, "messages")
    messages = {key: parse_message(value, key) for key, value in raw.items()}
    hints = {key: value.get("childrenIds") or [] for key, value in raw.items()
             if isinstance(value, dict) and isinstance(value.get("childrenIds"), list)}
    ordered = order_messages(messages, hints)
    if current is not None and (not isinstance(current, str) or current not in messages):
        raise BrokenTree(f"chat.history.currentId {current!r} is not a message of this chat.")
    return ChatIn(title, data, ordered, current)


# Out


def message_out(message: MessageIn, children: list[str]) -> MessageResponse:
    out: dict[str, Any] = {"id": message.id, "parentId": message.parent_id,
                           "childrenIds": children, "role": message.role,
                           "content": message.content}
    if message.model is not None:
        out["model"] = message.model
    if message.timestamp is not None:
        out["timestamp"] = message.timestamp
    if message.extra:
        out.update(message.extra)
    return out


def children_of(messages: Iterable[MessageIn]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for message in messages:
        if message.parent_id is not None:
            children.setdefault(message.parent_id, []).append(message.id)
    return children


def branch_ids(parents: dict[str, str | None], leaf: str | None) -> list[str]:
    """Ids from the root down to `leaf`, following parent ids."""
    path: list[str] = []
    seen: set[str] = set()
    while leaf is not None and leaf in parents and leaf not in seen:
        seen.add(leaf)
        path.append(leaf)
        leaf = parents[leaf]
    path.reverse()
    return path


def chat_object(title: str, data: dict[str, Any], messages: Sequence[MessageIn],
                current_id: str | None) -> dict[str, Any]:
    """Open WebUI's `chat`: `messages` in insertion order, as stored."""
    children = children_of(messages)
    history = {m.id: message_out(m, children.get(m.id, [])) for m in messages}
    parents = {m.id: m.parent_id for m in messages}
    branch = [history[i] for i in branch_ids(parents, current_id)]
    return {**data, "title": title,
            "history": {"messages": history, "currentId": current_id},
            "messages": branch}
