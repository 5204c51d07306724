"""A turn's third and fourth stages, history and trim: what of a chat the model sees in a turn,
the active branch (`history`), trimmed to the model's context (`fit`).

The policy, in order:
1. History: the branch from the root to the new user message (the tree's path, not every
   message of the chat). Assistant messages without content (still being written by another
   turn, or failed before their first word) are left out; so are messages of other roles than
   system, user and assistant. A chat compacted (chat/compaction.py) starts at its newest
   checkpoint instead, its summary before it as a system message, kept whatever its size.
2. Budget: the model's context in tokens (the request's `context_length`, else its
   `params.num_ctx`, else CHAT_CONTEXT_TOKENS), less the room kept for the answer
   (`max_tokens` when given, else a quarter of the context).
3. Size of a message: its characters / 4, rounded up, plus 4 (an estimate: the model's own
   tokenizer is not known here, and English runs near 4 characters a token).
4. Kept whatever their size: the system messages at the head (the system prompt) and the new
   user message. Then the newest messages, going back, while they fit in what is left; the
   first that does not fit ends the history, so the model sees a contiguous recent stretch,
   never a conversation with holes in it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from owui.chat.compaction import since_checkpoint

log = logging.getLogger("owui.chat.turns")
ROLES = frozenset({"system", "user", "assistant"})
PER_MESSAGE = 4
CHARS_PER_TOKEN = 4
SUMMARY_INTRO = "Summary of the conversation so far (earlier messages were compacted):\n"


@dataclass(frozen=True, slots=True)
class Trimmed:
    messages: list[dict[str, Any]]
    dropped: int
    budget: int


def _text_length(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):  # OpenAI content parts: text counts, an image a fixed share
        return sum(len(p.get("text", "")) if p.get("type") == "text" else 1000
                   for p in content if isinstance(p, dict))
    return 0


def estimate(message: dict[str, Any]) -> int:
    return math.ceil(_text_length(message.get("content")) / CHARS_PER_TOKEN) + PER_MESSAGE


def budget(context_length: int, max_tokens: int | None) -> int:
    reserve = max_tokens if max_tokens else context_length // 4
    return max(context_length - reserve, 0)


def model_message(message: dict[str, Any]) -> dict[str, Any] | None:
    """A stored message as the model takes it, or None when it is not for the model."""
    role = message.get("role")
    content = message.get("content")
    if role not in ROLES or (role == "assistant" and not content):
        return None
    return {"role": role, "content": content}


def trim(system: list[dict[str, Any]], history: list[dict[str, Any]], tokens: int) -> Trimmed:
    """`system` then the newest of `history` (whose last message, the new one, always stays)
    within `tokens`."""
    head = [*system]
    while history and history[0]["role"] == "system":
        head.append(history.pop(0))
    if not history:
        return Trimmed(head, 0, tokens)
    *older, newest = history
    left = tokens - sum(map(estimate, head)) - estimate(newest)
    kept: list[dict[str, Any]] = []
    for message in reversed(older):
        size = estimate(message)
        if size > left:
            break
        kept.append(message)
        left -= size
    kept.reverse()
    return Trimmed([*head, *kept, newest], len(older) - len(kept), tokens)


def history(branch: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The branch's messages as the model takes them, from its newest checkpoint (point 1)."""
    messages, summary = since_checkpoint(list(branch))
    head = [{"role": "system", "content": SUMMARY_INTRO + summary}] if summary else []
    return head + [m for m in map(model_message, messages) if m is not None]


def fit(system: list[dict[str, Any]], messages: list[dict[str, Any]], context_length: int,
        max_tokens: int | None) -> list[dict[str, Any]]:
    """`system` then the newest of `messages` that fit the model's context (points 2 to 4)."""
    trimmed = trim(system, messages, budget(context_length, max_tokens))
    if trimmed.dropped:
        log.info("turn history trimmed: %d older messages left out", trimmed.dropped)
    return trimmed.messages
