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
    """Top-level keys sent replace stored ones (as Open WebUI's settings update)."""
    row = await session.get(Preference, user_id, with_for_update=True)
    if row is None:
        row = Preference(user_id=user_id, settings={"ui": {}})
        session.add(row)
    row.settings = {**row.settings, **changes}
    row.updated_at = now()
    return row.settings
