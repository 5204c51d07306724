"""`/api/v1/configs`: what the web app reads on every load."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from owui.core.auth import CurrentUser

router = APIRouter(prefix="/api/v1/configs", tags=["configs"])


@router.get("/banners")
async def get_banners(_user: CurrentUser) -> list[dict[str, Any]]:
    """Open WebUI's banners (`{id, type, title, content, dismissible, timestamp}`); owui has
    none to show yet."""
    return []
