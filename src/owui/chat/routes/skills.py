"""`GET /api/v1/skills/`: the skills the caller may use, which the 0.12 web app asks for on
every page (its `/` menu and the chat's tool menu offer them).

A skill in Open WebUI 0.12 is a user's markdown instructions with a name and description,
shared by access grants like a prompt, that a chat turn adds to what the model is told. owui
keeps no skills (nothing makes one), so the list is honestly empty; it is served by the chat
service because skills are the same kind of thing as prompts, which it owns, and are used by
its turn.
"""

from __future__ import annotations

from fastapi import APIRouter

from owui.chat.responses import Json
from owui.chat.schemas import JsonObject
from owui.core.auth import CurrentUser

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])


@router.get("/", response_model=list[JsonObject])
async def my_skills(_user: CurrentUser) -> Json:
    """Open WebUI's `list[SkillUserResponse]`: the caller's skills and those shared with them;
    none here."""
    return Json([])
