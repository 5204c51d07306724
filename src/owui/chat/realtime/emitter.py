"""What a turn says to the web app: `events {chat_id, message_id, data: {type, data}}` to the
user's rooms. With the Redis manager the event reaches the sockets other replicas hold too.
An event that cannot be sent is logged: the turn goes on and is stored all the same."""

from __future__ import annotations

import logging
from typing import Any

import socketio

from owui.chat.realtime.rooms import chat_room, rooms_of

log = logging.getLogger("owui.chat.realtime")
EVENT = "events"  # the name the 0.12 web app listens to (not the older `chat-events`)


class Emitter:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def emit(self, user_id: str, chat_id: str | None, message_id: str | None, kind: str,
                   data: Any) -> None:
        await self._send(kind, chat_id, message_id, data, rooms_of(user_id, chat_id), None)

    def watching(self, chat_id: str) -> bool:
        """Whether a page of the chat is open on this replica (a socket in its room)."""
        return any(True for _ in self.sio.manager.get_participants("/", chat_room(chat_id)))

    async def emit_to_chat(self, chat_id: str, message_id: str, kind: str, data: Any,
                           skip_sid: str | None = None) -> None:
        """To the pages that joined the chat only (its room), but `skip_sid`."""
        await self._send(kind, chat_id, message_id, data, [chat_room(chat_id)], skip_sid)

    async def _send(self, kind: str, chat_id: str | None, message_id: str | None, data: Any,
                    rooms: list[str], skip_sid: str | None) -> None:
        payload = {"chat_id": chat_id, "message_id": message_id,
                   "data": {"type": kind, "data": data}}
        try:
            await self.sio.emit(EVENT, payload, to=rooms, skip_sid=skip_sid)
        except Exception:  # a socket or Redis gone: the web app reloads the chat from the store
            log.exception("emitting %s of chat %s failed", kind, chat_id)
