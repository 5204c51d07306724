"""What the chat service's workspace routes (prompts, notes, memories) share: their sizes, and
the owner as Open WebUI shows one beside a prompt or a note."""

from __future__ import annotations

from typing import Any

from owui.chat.errors import TooLarge
from owui.chat.responses import dumps
from owui.core.tokens import Claims

MAX_COMMAND_CHARS = 256
MAX_NAME_CHARS = 1_000
MAX_PROMPT_CHARS = 200_000
MAX_TAGS = 100
MAX_NOTE_BYTES = 2 * 1024 * 1024  # a note's data and meta as JSON (its text, its versions)
MAX_MEMORY_CHARS = 10_000
MAX_MEMORY_PATH_CHARS = 500


def check_chars(field: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise TooLarge(field, len(value), limit)


def check_bytes(field: str, value: Any, limit: int) -> None:
    if value is not None:
        size = len(dumps(value))
        if size > limit:
            raise TooLarge(field, size, limit, "bytes")


def owner(user: Claims) -> dict[str, Any]:
    """Open WebUI's `user` of a resource ({id, name, role, email}); workspace resources are
    their owner's alone, so the owner is the caller. The email is the gateway's, not in the
    token: left empty."""
    return {"id": user.sub, "name": user.name or "", "role": user.role, "email": ""}
