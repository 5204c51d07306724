"""What the chat service's workspace routes (prompts, notes, memories) share: their sizes, the
owner as Open WebUI shows one beside a prompt or a note, and `access/update` while sharing is
not served."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from owui.chat.errors import InvalidChat, TooLarge
from owui.chat.responses import Json, dumps
from owui.core.tokens import Claims

MAX_COMMAND_CHARS = 256
MAX_NAME_CHARS = 1_000
MAX_PROMPT_CHARS = 200_000
MAX_TAGS = 100
MAX_NOTE_BYTES = 2 * 1024 * 1024  # a note's data and meta as JSON (its text, its versions)
MAX_MEMORY_CHARS = 10_000
MAX_MEMORY_PATH_CHARS = 500
SHARING_NOT_SERVED = "Sharing is not served yet: only an empty list (private) is taken"
Resource = TypeVar("Resource")


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


class AccessGrantsForm(BaseModel):
    """`access/update`'s body; each resource names its own (NoteAccessGrantsForm, ...), as
    Open WebUI's document does."""
    access_grants: list[dict[str, Any]]


def private_only(kind: str, grants: list[dict[str, Any]] | None) -> None:
    """Sharing comes with groups (the administration issue): until then a resource takes no
    grant, and only an empty list (private) is accepted."""
    if grants:
        raise InvalidChat(f"{kind} are private to their owner: sharing comes with groups.")


async def private_access(kind: str, form: AccessGrantsForm, found: Awaitable[Resource],
                         model: Callable[[Resource], dict[str, Any]]) -> Json:
    """An `access/update`: the caller's own resource (else the 404 `found` raises), left
    private; the resource as it stands."""
    resource = await found
    private_only(kind, form.access_grants)
    return Json(model(resource))
