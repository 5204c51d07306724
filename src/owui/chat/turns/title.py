"""After a new chat's first exchange is answered: its title and tags, from the agent's tasks,
written unless the user renamed the chat meanwhile. A nicety: a failure is logged, never
raised."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from owui.chat.crud.tags import tag_id
from owui.chat.rawdb import RawConnection
from owui.chat.turns.running import Turns
from owui.chat.turns.turn import Turn
from owui.chat.writes import DEFAULT_TITLE, add_tags

log = logging.getLogger("owui.chat.turns")
MAX_TAGS = 5
MAX_TITLE_CHARS = 200


def titler(turns: Turns, chat_id: str, user_id: str) -> Callable[[Turn], Awaitable[None]]:
    """What titles the chat once its first turn ended well (`Turn.after`)."""
    async def title(turn: Turn) -> None:
        exchange = [turn.body["messages"][-1],
                    {"role": "assistant", "content": turn.content}]
        values = {kind: await _task(turns, turn, kind, exchange) for kind in ("title", "tags")}
        await apply_title_and_tags(turns, chat_id, user_id, values["title"], values["tags"])

    return title


async def _task(turns: Turns, turn: Turn, kind: str, exchange: list[dict[str, Any]]) -> Any:
    """One of the agent's tasks (title, tags); a failure is logged and gives None."""
    try:
        return await turns.agent.task(kind, turn.token, turn.model, exchange)
    except Exception as exc:  # a title is a nicety: never let it break anything
        log.warning("the %s task of chat %s failed: %s", kind, turn.chat_id, exc)
        return None


async def apply_title_and_tags(turns: Turns, chat_id: str, user_id: str, title: Any,
                               tags: Any) -> None:
    """Stores a title the agent made (unless the user renamed the chat meanwhile) and its
    tags; anything not a string (a list of strings for tags) is left out."""
    names = [t.strip() for t in tags if isinstance(t, str) and t.strip()][:MAX_TAGS] \
        if isinstance(tags, list) else []
    ids = {tag_id(name): name for name in names if tag_id(name) not in ("", "none")}
    title = title.strip()[:MAX_TITLE_CHARS] if isinstance(title, str) and title.strip() else None

    async def job(writer: RawConnection) -> None:
        if title:  # unless the user renamed it meanwhile
            await writer.execute("UPDATE chats SET title = :title WHERE id = :id"
                                 " AND user_id = :user_id AND title = :default",
                                 {"title": title, "id": chat_id, "user_id": user_id,
                                  "default": DEFAULT_TITLE})
        await add_tags(writer, {(user_id, t): n for t, n in ids.items()},
                       [(chat_id, t, user_id) for t in ids])

    if title or ids:
        await turns.write(job)
