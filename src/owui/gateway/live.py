"""The gateway's settings an admin changes at run time (core.live_config): the auth settings of
Admin Panel > Settings > General, the default permissions, banners, default models and prompt
suggestions. Environment variables give the first values, as in Open WebUI; a change applies on
every gateway replica within about a second."""

from __future__ import annotations

from typing import Any

from owui.core.access import DEFAULT_PERMISSIONS
from owui.core.config import Settings
from owui.core.db import Database
from owui.core.live_config import LiveConfig
from owui.gateway.models import LIVE_CONFIG

# Open WebUI's AdminConfig (GET/POST /api/v1/auths/admin/config), with its defaults.
AUTH_KEYS = (
    "SHOW_ADMIN_DETAILS", "ADMIN_EMAIL", "WEBUI_URL", "ENABLE_LOGIN_FORM", "ENABLE_SIGNUP",
    "ENABLE_API_KEYS", "ENABLE_API_KEYS_ENDPOINT_RESTRICTIONS", "API_KEYS_ALLOWED_ENDPOINTS",
    "DEFAULT_USER_ROLE", "DEFAULT_GROUP_ID", "DEFAULT_INTERFACE_SETTINGS", "I18N",
    "JWT_EXPIRES_IN", "ENABLE_COMMUNITY_SHARING", "ENABLE_MESSAGE_RATING", "ENABLE_FOLDERS",
    "FOLDER_MAX_FILE_COUNT", "AUTOMATION_MAX_COUNT", "AUTOMATION_MIN_INTERVAL",
    "ENABLE_AUTOMATIONS", "ENABLE_CHANNELS", "ENABLE_ENCRYPTED_CHANNELS", "ENABLE_APPS",
    "CHANNEL_MODEL_RESPONSE_MODE", "ENABLE_CALENDAR", "ENABLE_MEMORIES",
    "ENABLE_MEMORY_SYSTEM_CONTEXT", "ENABLE_SKILL_LAZY_LOADING", "SKILL_CONTENT_MAX_CHARS",
    "SKILL_PREVIEW_MAX_CHARS", "ENABLE_NOTES", "ENABLE_USER_WEBHOOKS", "ENABLE_USER_STATUS",
    "PENDING_USER_OVERLAY_TITLE", "PENDING_USER_OVERLAY_CONTENT", "RESPONSE_WATERMARK",
    "ENABLE_MFA", "MFA_ALLOW_OAUTH_BYPASS", "MFA_ALLOW_TRUSTED_HEADER_BYPASS",
)
# Admin Panel > Settings > Interface and Models.
INTERFACE_KEYS = (
    "BANNERS", "DEFAULT_MODELS", "DEFAULT_PINNED_MODELS", "MODEL_ORDER_LIST",
    "DEFAULT_MODEL_METADATA", "DEFAULT_MODEL_PARAMS", "DEFAULT_PROMPT_SUGGESTIONS",
    "DEFAULT_PROMPT_SUGGESTIONS_I18N", "UI_VISIBILITY",
)
# The default permissions, and a value every write to groups or memberships changes, so that
# every replica reloads them (gateway/access_state.py).
USER_PERMISSIONS = "USER_PERMISSIONS"
ACCESS_VERSION = "ACCESS_VERSION"


def auth_defaults(settings: Settings) -> dict[str, Any]:
    return {
        "SHOW_ADMIN_DETAILS": True, "ADMIN_EMAIL": None, "WEBUI_URL": "",
        "ENABLE_LOGIN_FORM": True, "ENABLE_SIGNUP": settings.enable_signup,
        "ENABLE_API_KEYS": settings.enable_api_keys,
        "ENABLE_API_KEYS_ENDPOINT_RESTRICTIONS": False, "API_KEYS_ALLOWED_ENDPOINTS": "",
        "DEFAULT_USER_ROLE": settings.default_user_role, "DEFAULT_GROUP_ID": "",
        "DEFAULT_INTERFACE_SETTINGS": {}, "I18N": {},
        "JWT_EXPIRES_IN": settings.jwt_expires_in, "ENABLE_COMMUNITY_SHARING": False,
        "ENABLE_MESSAGE_RATING": True, "ENABLE_FOLDERS": True, "FOLDER_MAX_FILE_COUNT": "",
        "AUTOMATION_MAX_COUNT": "", "AUTOMATION_MIN_INTERVAL": "", "ENABLE_AUTOMATIONS": False,
        "ENABLE_CHANNELS": False, "ENABLE_ENCRYPTED_CHANNELS": False, "ENABLE_APPS": False,
        "CHANNEL_MODEL_RESPONSE_MODE": "thread", "ENABLE_CALENDAR": False,
        "ENABLE_MEMORIES": True, "ENABLE_MEMORY_SYSTEM_CONTEXT": True,
        "ENABLE_SKILL_LAZY_LOADING": False, "SKILL_CONTENT_MAX_CHARS": None,
        "SKILL_PREVIEW_MAX_CHARS": None, "ENABLE_NOTES": True, "ENABLE_USER_WEBHOOKS": False,
        "ENABLE_USER_STATUS": False, "PENDING_USER_OVERLAY_TITLE": "",
        "PENDING_USER_OVERLAY_CONTENT": "", "RESPONSE_WATERMARK": "", "ENABLE_MFA": False,
        "MFA_ALLOW_OAUTH_BYPASS": False, "MFA_ALLOW_TRUSTED_HEADER_BYPASS": False,
    }


def interface_defaults() -> dict[str, Any]:
    return {
        "BANNERS": [], "DEFAULT_MODELS": None, "DEFAULT_PINNED_MODELS": None,
        "MODEL_ORDER_LIST": [], "DEFAULT_MODEL_METADATA": {}, "DEFAULT_MODEL_PARAMS": {},
        "DEFAULT_PROMPT_SUGGESTIONS": [], "DEFAULT_PROMPT_SUGGESTIONS_I18N": {},
        "UI_VISIBILITY": {},
    }


def defaults(settings: Settings) -> dict[str, Any]:
    return {**auth_defaults(settings), **interface_defaults(),
            USER_PERMISSIONS: DEFAULT_PERMISSIONS, ACCESS_VERSION: ""}


def make_live_config(settings: Settings, db: Database) -> LiveConfig:
    return LiveConfig(db, LIVE_CONFIG, defaults(settings),
                      interval=settings.revocation_sync_interval)
