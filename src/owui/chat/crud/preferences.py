"""A user's settings document, in Open WebUI's `UserSettings` layout."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.models import Preference, now


async def stored(session: AsyncSession, user_id: str) -> dict[str, Any] | None:
    """The settings saved, or None for a user who never saved any."""
    return await session.scalar(select(Preference.settings)
                                .where(Preference.user_id == user_id))


async def get(session: AsyncSession, user_id: str) -> dict[str, Any]:
    settings = await session.scalar(select(Preference.settings)
                                    .where(Preference.user_id == user_id))
    return settings if settings is not None else {"ui": {}}


async def merge(session: AsyncSession, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys sent replace stored ones, but `ui` is merged key by key: the 0.12 web
    app saves each settings page as a patch (`{"ui": {"widescreenMode": true}}`), and the
    keys another page saved must stay (a page's whole object, like `params`, is one key)."""
    row = await session.get(Preference, user_id, with_for_update=True)
    if row is None:
        row = Preference(user_id=user_id, settings={"ui": {}})
        session.add(row)
    merged = {**row.settings, **changes}
    if isinstance(changes.get("ui"), dict) and isinstance(row.settings.get("ui"), dict):
        merged["ui"] = {**row.settings["ui"], **changes["ui"]}
    row.settings = merged
    row.updated_at = now()
    return row.settings
