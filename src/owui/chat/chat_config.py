"""The chat settings an admin sets at `/api/v1/chats/config` (Open WebUI's ChatConfigForm:
context compaction and tool search), kept in the chat service's `live_config` table.

`ENABLE_CONTEXT_COMPACTION`, `CONTEXT_COMPACTION_MODEL` and `CONTEXT_COMPACTION_PROMPT_TEMPLATE`
govern `POST /api/v1/chats/{id}/compact` (compaction.py); owui never compacts on its own nor
defers tools, so the other values are stored and given back as set, for the admin page.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from owui.chat.models import LiveConfigTable
from owui.core.live_config import LiveConfig

DEFAULTS: dict[str, Any] = {
    "CONTEXT_COMPACTION_MODEL": "", "ENABLE_CONTEXT_COMPACTION": False,
    "CONTEXT_COMPACTION_TOKEN_THRESHOLD": None, "CONTEXT_COMPACTION_TOKEN_CAP": None,
    "CONTEXT_COMPACTION_RETENTION_PERCENTAGE": None, "CONTEXT_COMPACTION_PROMPT_TEMPLATE": "",
    "ENABLE_TOOL_PERMISSIONS": False, "ENABLE_TOOL_SEARCH": False,
    "TOOL_SEARCH_DEFER_THRESHOLD": 400, "TOOL_SEARCH_ALWAYS_LOADED": [],
    "TOOL_SEARCH_DEFER_BUILTIN_TOOLS": True,
}


async def chat_config(request: Request) -> LiveConfig:
    """The service's LiveConfig of these keys, made on first use and refreshed on each read
    (an admin page's rare reads: no refresh loop)."""
    state = request.app.state
    config: LiveConfig | None = getattr(state, "chat_config", None)
    if config is None:
        config = state.chat_config = LiveConfig(state.db, LiveConfigTable, DEFAULTS)
    await config.refresh()
    return config
