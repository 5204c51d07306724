"""A user's preferences: Open WebUI's `/api/v1/users/user/settings` document, and
`/api/v1/chats/preferences`, a typed view of the chat fields in that same document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from owui.chat.crud import preferences
from owui.chat.errors import TooLarge
from owui.chat.limits import MAX_SETTINGS_BYTES
from owui.chat.responses import Json, dumps
from owui.chat.schemas import Preferences, PreferencesForm, UserSettings
from owui.chat.views import preferences as preferences_view
from owui.core.auth import CurrentUser
from owui.core.service import Session

router = APIRouter(tags=["preferences"])


def _check_size(settings: dict[str, Any]) -> None:
    size = len(dumps(settings))
    if size > MAX_SETTINGS_BYTES:
        raise TooLarge("settings", size, MAX_SETTINGS_BYTES, "bytes")


@router.get("/api/v1/users/user/settings", response_model=UserSettings | None)
async def get_settings(session: Session, user: CurrentUser) -> Json:
    """null until the user saves settings, as Open WebUI answers."""
    return Json(await preferences.stored(session, user.sub))


@router.post("/api/v1/users/user/settings/update", response_model=UserSettings)
async def update_settings(form: UserSettings, session: Session, user: CurrentUser) -> Json:
    changes = form.model_dump()
    _check_size(changes)
    settings = await preferences.merge(session, user.sub, changes)
    _check_size(settings)  # patches add up: the whole document is held to the limit
    await session.commit()
    return Json(settings)


@router.get("/api/v1/chats/preferences", response_model=Preferences)
async def get_preferences(session: Session, user: CurrentUser) -> Json:
    return Json(preferences_view(await preferences.get(session, user.sub)))


@router.post("/api/v1/chats/preferences", response_model=Preferences)
async def set_preferences(form: PreferencesForm, session: Session, user: CurrentUser) -> Json:
    """Fields sent replace stored ones: default model (`ui.models`), system prompt
    (`ui.system`), parameters (`ui.params`), other UI settings (`ui`)."""
    current = await preferences.get(session, user.sub)
    ui = {**(current.get("ui") or {}), **(form.ui or {})}
    if form.default_model is not None:
        ui["models"] = [form.default_model]
    if form.system_prompt is not None:
        ui["system"] = form.system_prompt
    if form.params is not None:
        ui["params"] = form.params
    _check_size(ui)
    settings = await preferences.merge(session, user.sub, {"ui": ui})
    await session.commit()
    return Json(preferences_view(settings))
