"""A turn's second stage, place in the tree: under which message its new messages go (the one
the form names, else the chat's current message), checked against the chat's tree, and the
branch from the root down to the new user message: the history the model is given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from owui.chat import reads
from owui.chat.errors import MessageTaken, NotInTree
from owui.chat.rawdb import RawConnection
from owui.chat.tree import MessageIn, message_out
from owui.chat.turns.forms import Ask
from owui.chat.writes import DEFAULT_TITLE


@dataclass(slots=True)
class Placed:
    chat_id: str
    new: list[MessageIn]  # to store, parents set: the user's message (unless none), the answer
    branch: list[dict[str, Any]]  # root to the new user message (or to the one answered again)
    first: bool  # the chat's first exchange: it gets a title once answered

    @property
    def user_message(self) -> MessageIn | None:
        return self.new[0] if len(self.new) == 2 else None

    @property
    def answer(self) -> MessageIn:
        return self.new[-1]


async def place(conn: RawConnection, chat_id: str, user_id: str, ask: Ask, *,
                reuse_user_message: bool = False) -> Placed:
    """The new messages under their parent, and the branch they end. `reuse_user_message`:
    a user message of that id stored already (Open WebUI stores it before the turn) is
    answered rather than added again."""
    chat = await reads.require_chat(conn, chat_id, user_id)
    user_message, answer = ask.user_message, ask.answer
    parent = ask.parent_id if ask.parent_given else chat.current_message_id
    # Only ids a client chose can be taken already (ours are new uuids): look those up.
    known = await roles(conn, chat_id, list(ask.chosen_ids)) if ask.chosen_ids else {}
    if reuse_user_message and user_message is not None and known.get(user_message.id) == "user":
        parent, user_message = user_message.id, None
        known.pop(parent)
    if user_message is not None:
        user_message.parent_id, answer.parent_id = parent, user_message.id
    else:
        answer.parent_id = parent
    branch = await reads.branch(conn, chat_id, parent) if parent else []
    if branch:  # the branch ends at the parent: it is in the chat, with this role
        known[branch[-1]["id"]] = branch[-1]["role"]
    new = [m for m in (user_message, answer) if m is not None]
    check_place(chat_id, new, known)
    if user_message is not None:
        branch.append(message_out(user_message, []))
    first = user_message is not None and parent is None and chat.title == DEFAULT_TITLE
    return Placed(chat_id, new, branch, first)


async def roles(conn: RawConnection, chat_id: str, ids: list[str]) -> dict[str, str]:
    """The roles of those of `ids` that are messages of the chat."""
    params: dict[str, Any] = {"chat_id": chat_id}
    where = conn.in_list("ids", ids, params)
    rows = await conn.fetch(
        f"SELECT id, role FROM messages WHERE chat_id = :chat_id AND id {where}", params)
    return {row[0]: row[1] for row in rows}


def check_place(chat_id: str, new: list[MessageIn], known: dict[str, str]) -> None:
    """Raises what does not fit the chat's tree: the first new message's parent must be a
    message of the chat (a user message, for an answer given again); the ids are new."""
    taken = [m.id for m in new if m.id in known]
    if taken:
        raise MessageTaken(chat_id, taken[0])
    first = new[0]
    if first.parent_id is None:
        return
    if first.role == "assistant" and known.get(first.parent_id) != "user":
        raise NotInTree(f"To answer again, parent_id must be a user message of chat "
                        f"{chat_id!r}; {first.parent_id!r} is not.")
    if first.parent_id not in known:
        raise NotInTree(f"parent_id {first.parent_id!r} is not a message of chat {chat_id!r}.")
