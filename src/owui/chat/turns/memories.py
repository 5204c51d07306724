"""A turn's memories: when the user's memory setting is on (the web app sends
`features.memory`, from Settings > Personalization), the model is given the user's memories as
Open WebUI gives them, in a system message: every `user` memory (about the person), then the
`context` memories relevant to the new message (the retrieval service's nearest to it, in the
user's memory collection). No memory, or retrieval unreachable: the turn goes on without."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from owui.chat.clients.retrieval import RetrievalClient
from owui.chat.rawdb import RawConnection
from owui.chat.turns.forms import TurnForm
from owui.core.access import AccessVerifier, access_of, forwarded_header
from owui.core.config import Settings
from owui.core.errors import UpstreamError
from owui.core.tokens import Claims

log = logging.getLogger("owui.chat.turns")
RELEVANT = 8  # context memories looked up per turn (Open WebUI's)
SECTION_CHARS = 2000  # each part of the memory message at most (Open WebUI's default limits)
QUERY_CHARS = 4000
OPEN, CLOSE = "<memory_context>", "</memory_context>"
# The lookup is on the way to the first token: a slow retrieval service costs the turn its
# relevant memories, never more than this.
LOOKUP_SECONDS = 5.0


class Remembered(Protocol):
    id: str
    type: str
    path: str | None
    content: str
    updated_at: int


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    type: str
    path: str | None
    content: str
    updated_at: int


_verifiers: dict[str, AccessVerifier] = {}


def may_remember(settings: Settings, user: Claims) -> bool:
    """The `features` flag is the client's: the user's `features.memories` permission is
    checked too, as Open WebUI does (from the access header the request came with)."""
    secret = settings.jwt_secret
    verifier = _verifiers.get(secret) or _verifiers.setdefault(secret, AccessVerifier(secret))
    return access_of(user.sub, user.role, forwarded_header(), verifier).allows(
        "features.memories")


def label(memory: Remembered) -> str:
    return f"{memory.path}: {memory.content}" if memory.path else memory.content


async def nearest(settings: Settings, token: str, user_id: str, text: str,
                  memories: Sequence[Remembered], k: int) -> list[tuple[Remembered, float]]:
    """The memories nearest `text`, best first, with their scores: retrieval's hits whose
    memory still exists (a deleted memory's vectors stay in retrieval, see clients/)."""
    by_id = {m.id: m for m in memories}
    found: list[tuple[Remembered, float]] = []
    # More than k: several vectors of one long memory, or of deleted ones, may come first.
    for hit in await RetrievalClient(settings).query(token, user_id, text, k * 3):
        memory = by_id.get(hit.name)
        if memory is not None and all(memory is not m for m, _ in found):
            found.append((memory, hit.score))
    return found[:k]


def render(memories: Sequence[Remembered], relevant: Sequence[Remembered]) -> str | None:
    """The memory message's text: the person's memories, then the relevant context."""
    about = sorted(label(m) for m in memories if m.type == "user")
    about_ids = {m.id for m in memories if m.type == "user"}
    context = sorted(label(m) for m in relevant if m.id not in about_ids)
    parts = [section[:SECTION_CHARS] for section in (
        _section("User Memory", about), _section("Relevant Context", context)) if section]
    return f"{OPEN}\n" + "\n\n".join(parts) + f"\n{CLOSE}" if parts else None


def _section(title: str, labels: list[str]) -> str:
    return f"[{title}]\n" + "\n".join(f"- {text}" for text in labels) if labels else ""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        return " ".join(str(p.get("text") or "") for p in content
                        if isinstance(p, dict) and p.get("type") == "text").strip()
    return ""


async def _rows(conn: RawConnection, user_id: str) -> list[Row]:
    found = await conn.fetch("SELECT id, type, path, content, updated_at FROM memories "
                             "WHERE user_id = :user_id", {"user_id": user_id})
    return [Row(*row) for row in found]


async def memory_messages(settings: Settings, conn: RawConnection, user: Claims, token: str,
                          form: TurnForm) -> list[dict[str, Any]]:
    """The system message of the user's memories for this turn, or none."""
    if not form.features.get("memory") or not may_remember(settings, user):
        return []
    memories = await _rows(conn, user.sub)
    if not memories:
        return []
    query = _text(form.content)[-QUERY_CHARS:]
    relevant: list[Remembered] = []
    if query and any(m.type != "user" for m in memories):
        try:
            found = await asyncio.wait_for(nearest(settings, token, user.sub, query, memories,
                                                   RELEVANT), LOOKUP_SECONDS)
            relevant = [m for m, _ in found]
        except (UpstreamError, TimeoutError) as exc:  # the answer matters more
            log.warning("relevant memories left out of a turn: %s",
                        getattr(exc, "detail", "the retrieval service was slow"))
    text = render(memories, relevant)
    return [{"role": "system", "content": text}] if text else []
