"""The inference service's calls to the agent service, with the user's token: the functions
(Open WebUI's `GET /api/v1/functions/`), whose actions and filters the model list shows."""

from __future__ import annotations

import asyncio
from typing import Any

from owui.core.client import ServiceClient, ServiceFailed, ServiceTimeout
from owui.core.config import Settings

FUNCTIONS = "/api/v1/functions/"
# The model list waits no longer than this for them (the agent is on the same network; a
# slower answer means it is in trouble, and the list goes out with what was known before).
WAIT = 2.0


class AgentClient:
    def __init__(self, settings: Settings) -> None:
        self._service = ServiceClient("agent", settings)

    async def functions(self, token: str) -> list[dict[str, Any]]:
        """The functions the caller sees (a user: the active ones; an admin: all)."""
        try:
            async with asyncio.timeout(WAIT):
                answer = await self._service.call("GET", FUNCTIONS, token=token)
        except TimeoutError:
            raise ServiceTimeout("agent", 504, f"The agent service did not list its "
                                               f"functions within {WAIT:g} s.") from None
        if not isinstance(answer, list):
            raise ServiceFailed("agent", 502, "The agent service answered its function list "
                                              "with no JSON list.")
        return [item for item in answer if isinstance(item, dict)]
