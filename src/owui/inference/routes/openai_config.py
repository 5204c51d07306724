"""`GET /openai/config` (admin), Open WebUI's view of its OpenAI connections, which its web app
reads for the model menu and the connections settings: the switch, the base URLs in order, and
per URL (keyed by its position) whether it is on and its prefix. Built from the stored
connections; API keys are never sent back (`has_api_key` under `/api/v1/inference/connections`
says whether one is set), so each key reads as ""."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from owui.core.auth import AdminUser
from owui.core.service import Session
from owui.inference import crud

router = APIRouter(tags=["openai"])


class OpenAIConnectionConfig(BaseModel):
    enable: bool
    prefix_id: str = ""
    tags: list[str] = Field(default_factory=list)
    model_ids: list[str] = Field(default_factory=list)
    connection_type: str = "external"


class OpenAIConfig(BaseModel):
    ENABLE_OPENAI_API: bool
    OPENAI_API_BASE_URLS: list[str]
    OPENAI_API_KEYS: list[str]
    OPENAI_API_CONFIGS: dict[str, OpenAIConnectionConfig]


@router.get("/openai/config", response_model=OpenAIConfig,
            summary="The OpenAI connections as Open WebUI lists them (keys left out)")
async def openai_config(request: Request, session: Session, _admin: AdminUser) -> OpenAIConfig:
    rows = [row for row in await crud.list_connections(session) if row.provider == "openai"]
    return OpenAIConfig(
        ENABLE_OPENAI_API=request.app.state.settings.enable_openai_api,
        OPENAI_API_BASE_URLS=[row.url for row in rows],
        OPENAI_API_KEYS=["" for _ in rows],
        OPENAI_API_CONFIGS={str(index): OpenAIConnectionConfig(enable=row.enabled,
                                                               prefix_id=row.prefix_id or "")
                            for index, row in enumerate(rows)})
