"""What a user may do in the web app, in Open WebUI's shape (`permissions` in the sign-in
answer and in `/api/config`). owui has no per-group permissions yet: every account gets these,
and admins may do everything whatever they say."""

from __future__ import annotations

import copy
from typing import Any

DEFAULT_PERMISSIONS: dict[str, dict[str, bool]] = {
    "workspace": {
        "models": False,
        "knowledge": False,
        "prompts": False,
        "tools": False,
        "skills": False,
        "models_import": False,
        "models_export": False,
        "models_hidden": False,
        "prompts_import": False,
        "prompts_export": False,
        "tools_import": False,
        "tools_export": False,
        "skills_import": False,
        "skills_export": False,
    },
    "sharing": {
        "models": False,
        "public_models": False,
        "knowledge": False,
        "public_knowledge": False,
        "prompts": False,
        "public_prompts": False,
        "tools": False,
        "public_tools": False,
        "skills": False,
        "public_skills": False,
        "notes": False,
        "public_notes": False,
        "folders": False,
        "public_chats": False,
        "open_chats": False,
        "public_calendars": False,
    },
    "access_grants": {"allow_users": True, "allow_groups": True},
    "chat": {
        "controls": True,
        "valves": True,
        "system_prompt": True,
        "params": True,
        "file_upload": True,
        "web_upload": True,
        "delete": True,
        "delete_message": True,
        "continue_response": True,
        "regenerate_response": True,
        "rate_response": True,
        "edit": True,
        "share": True,
        "export": True,
        "import": True,
        "stt": True,
        "tts": True,
        "call": True,
        "multiple_models": True,
        "temporary": True,
        "temporary_enforced": False,
    },
    "features": {
        "api_keys": True,  # owui lets every account make API keys
        "notes": True,
        "folders": True,
        "channels": True,
        "encrypted_channels": False,
        "direct_tool_servers": False,
        "web_search": True,
        "image_generation": True,
        "code_interpreter": True,
        "memories": True,
        "automations": False,
        "calendar": True,
        "webhooks": False,
    },
    "settings": {"interface": True},
}


def permissions_of(role: str) -> dict[str, Any]:
    """A fresh copy (callers may serialise or change it)."""
    return copy.deepcopy(DEFAULT_PERMISSIONS)
