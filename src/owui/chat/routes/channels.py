"""`GET /api/v1/channels/`: the team chat rooms the caller is in, which the 0.12 web app asks
for on every page (its sidebar). Channels are out of owui's scope (issue 18): the caller is in
none, so the list is empty, and no other channel route is served."""

from __future__ import annotations

from fastapi import APIRouter

from owui.chat.responses import Json
from owui.chat.schemas import JsonObject
from owui.core.auth import CurrentUser

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])


@router.get("/", response_model=list[JsonObject])
async def my_channels(_user: CurrentUser) -> Json:
    """Open WebUI's `list[ChannelListItemResponse]`: none."""
    return Json([])
