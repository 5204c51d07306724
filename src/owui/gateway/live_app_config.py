"""`/api/config` with what an admin changed at run time laid over the values read at start:
sign-up on or off, the features they switch, default models and prompt suggestions, and the
signed-in user's effective permissions (their groups' merged with the defaults)."""

from __future__ import annotations

from typing import Any

from owui.core.live_config import LiveConfig
from owui.gateway.administration import Administration

# features.<name> in /api/config <- the admin setting that switches it.
_PUBLIC_FEATURES = {"enable_signup": "ENABLE_SIGNUP", "enable_login_form": "ENABLE_LOGIN_FORM"}
_FEATURES = {
    "enable_api_keys": "ENABLE_API_KEYS", "enable_community_sharing": "ENABLE_COMMUNITY_SHARING",
    "enable_message_rating": "ENABLE_MESSAGE_RATING", "enable_folders": "ENABLE_FOLDERS",
    "folder_max_file_count": "FOLDER_MAX_FILE_COUNT", "enable_notes": "ENABLE_NOTES",
    "enable_memories": "ENABLE_MEMORIES", "enable_user_webhooks": "ENABLE_USER_WEBHOOKS",
    "enable_user_status": "ENABLE_USER_STATUS",
}
_UI = {"pending_user_overlay_title": "PENDING_USER_OVERLAY_TITLE",
       "pending_user_overlay_content": "PENDING_USER_OVERLAY_CONTENT",
       "response_watermark": "RESPONSE_WATERMARK",
       "default_interface_settings": "DEFAULT_INTERFACE_SETTINGS", "visibility": "UI_VISIBILITY"}


def public_overlay(config: dict[str, Any], live: LiveConfig) -> dict[str, Any]:
    config["features"] |= {name: live[key] for name, key in _PUBLIC_FEATURES.items()}
    return config


def signed_in_overlay(config: dict[str, Any], admin: Administration,
                      user_id: str) -> dict[str, Any]:
    live = admin.live
    public_overlay(config, live)
    config["features"] |= {name: live[key] for name, key in _FEATURES.items()}
    config["ui"] = {**config.get("ui", {}), **{name: live[key] for name, key in _UI.items()}}
    suggestions = live["DEFAULT_PROMPT_SUGGESTIONS"]
    return config | {
        "default_models": live["DEFAULT_MODELS"],
        "default_pinned_models": live["DEFAULT_PINNED_MODELS"],
        "default_prompt_suggestions": suggestions or None,
        "default_prompt_suggestions_i18n": live["DEFAULT_PROMPT_SUGGESTIONS_I18N"],
        "permissions": admin.access.permissions_for(user_id),
    }
