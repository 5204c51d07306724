"""`/api/config` in Open WebUI's shape: the public part the web app reads before sign-in, and
the whole answer for a signed-in user. `name` stays "Open WebUI" (the app's branding is not
ours to change); `version` is owui's own. Features say what owui serves, so that the app hides
what would fail.
"""

from __future__ import annotations

from typing import Any

import owui
from owui.core.config import Settings
from owui.gateway.permissions import permissions_of

NAME = "Open WebUI"


def public_config(settings: Settings, *, onboarding: bool) -> dict[str, Any]:
    config: dict[str, Any] = {
        "status": True,
        "name": NAME,
        "version": owui.__version__,
        "default_locale": "",
        "i18n": {},
        "oauth": {"providers": {}, "auto_redirect": False},
        "features": {
            "slim": False,
            "auth": True,
            "auth_trusted_header": False,
            "enable_signup_password_confirmation": False,
            "enable_ldap": False,
            "enable_signup": True,
            "enable_login_form": True,
            "enable_websocket": True,
        },
    }
    if onboarding:  # no account yet: the app offers to create the first (admin) one
        return {"onboarding": True, **config}
    return config


def full_config(settings: Settings, role: str) -> dict[str, Any]:
    config = public_config(settings, onboarding=False)
    code = settings.enable_code_execution
    config["features"] |= {
        "enable_api_keys": True,
        "enable_password_change_form": True,
        "enable_version_update_check": False,
        "enable_pyodide_file_persistence": False,
        "enable_public_active_users_count": False,
        "enable_easter_eggs": False,
        "enable_direct_connections": False,
        "enable_direct_integrations": False,
        "enable_plugins": True,
        "enable_tools": True,
        "enable_functions": True,
        "enable_tool_servers": False,
        "enable_terminal_servers": False,
        "enable_folders": True,
        "folder_max_file_count": "",
        "enable_channels": False,
        "enable_encrypted_channels": False,
        "enable_apps": False,
        "enable_calendar": False,
        "enable_automations": False,
        "enable_notes": True,
        "enable_context_compaction": False,
        "enable_tool_permissions": False,
        "enable_web_search": bool(settings.web_search_engine),
        "enable_web_search_confirmation": False,
        "web_search_confirmation_content": "",
        "enable_code_execution": code,
        "enable_code_interpreter": code,
        "enable_image_generation": False,
        "enable_autocomplete_generation": False,
        "enable_title_generation": True,
        "enable_follow_up_generation": True,
        "enable_tags_generation": True,
        "enable_community_sharing": False,
        "enable_message_rating": True,
        "enable_user_webhooks": False,
        "enable_user_status": False,
        "enable_admin_export": True,
        "enable_admin_chat_access": True,
        "enable_admin_analytics": False,
        "enable_google_drive_integration": False,
        "enable_onedrive_integration": False,
        "enable_memories": True,
        "enable_subagents": False,
    }
    return config | {
        "default_models": None,
        "default_pinned_models": None,
        "default_prompt_suggestions": None,
        "default_prompt_suggestions_i18n": {},
        # The app's Run and code interpreter call the server (its "jupyter" engine): the agent
        # service's sandbox (/api/v1/utils/code/execute), not Pyodide in the browser.
        "code": {"engine": "jupyter", "interpreter_engine": "jupyter"},
        "audio": {
            "realtime": {"enabled": False, "model": "", "voice": ""},
            "tts": {"engine": "", "voice": "", "split_on": "punctuation"},
            "stt": {"engine": ""},
        },
        "file": {"max_size": None, "max_count": None,
                 "image_compression": {"width": None, "height": None}},
        "permissions": permissions_of(role),
        "google_drive": {"client_id": "", "api_key": ""},
        "onedrive": {"client_id_personal": "", "client_id_business": "", "sharepoint_url": "",
                     "sharepoint_tenant_id": ""},
        "ui": {"default_interface_settings": {}, "visibility": {},
               "pending_user_overlay_title": "", "pending_user_overlay_content": "",
               "response_watermark": "", "iframe_csp": ""},
        "license_metadata": None,
    }
