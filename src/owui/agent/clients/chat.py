"""The agent's calls to the chat service, with the user's token: an action's events (a status,
text for the message, a notification) to the pages that show the chat, as a turn's events reach
them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from owui.core.client import ServiceClient
from owui.core.config import Settings


class ChatClient:
    def __init__(self, settings: Settings) -> None:
        self._service = ServiceClient("chat", settings)

    async def message_event(self, token: str, chat_id: str, message_id: str,
                            event: dict[str, Any]) -> None:
        """`{type, data}` about one message of the user's chat (404 for a chat not theirs)."""
        path = f"/api/v1/chats/{quote(chat_id, safe='')}/messages/{quote(message_id, safe='')}" \
               "/event"
        data = event.get("data")
        await self._service.call("POST", path, token=token, json={
            "type": str(event.get("type") or "message"),
            "data": data if isinstance(data, dict) else {"value": data}})
