"""The rooms a socket is in: its user's (joined at connect), and the chats it opened (joined
with `events:chat`, only for the user's own chats). A turn's events go to both, once each."""

from __future__ import annotations

from owui.chat import reads
from owui.chat.rawdb import RawPool


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def chat_room(chat_id: str) -> str:
    return f"chat:{chat_id}"


def rooms_of(user_id: str, chat_id: str | None) -> list[str]:
    return [user_room(user_id)] + ([chat_room(chat_id)] if chat_id else [])


async def owns_chat(pool: RawPool, user_id: str, chat_id: str) -> bool:
    async with pool.acquire() as conn:
        return await reads.find_chat(conn, chat_id, user_id) is not None
