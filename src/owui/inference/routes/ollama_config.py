"""Open WebUI's Ollama connections settings (admin): `GET /ollama/config`,
`POST /ollama/config/update` and `POST /ollama/verify` (try a URL, nothing saved). The Ollama API
itself is passed through by routes/ollama.py. A connection's key lives in its options (`key`),
as in Open WebUI, and is never sent back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from owui.core.auth import AdminUser
from owui.core.errors import error_response
from owui.core.service import Session
from owui.inference import provider_config
from owui.inference.routes.openai_config import VerifyForm, checked_url
from owui.inference.runtime import Runtime, RuntimeDep
from owui.inference.verify import probe

router = APIRouter(tags=["ollama"])


class OllamaConfig(BaseModel):
    ENABLE_OLLAMA_API: bool
    OLLAMA_BASE_URLS: list[str]
    OLLAMA_API_CONFIGS: dict[str, dict[str, Any]]


class OllamaConfigForm(BaseModel):
    ENABLE_OLLAMA_API: bool | None = None
    OLLAMA_BASE_URLS: list[str] = Field(max_length=provider_config.MAX_CONNECTIONS)
    OLLAMA_API_CONFIGS: dict[str, Any] = Field(default_factory=dict)


async def _config(runtime: Runtime, session: Session) -> OllamaConfig:
    rows = await provider_config.rows_of(session, "ollama")
    return OllamaConfig(ENABLE_OLLAMA_API=runtime.catalog.provider_on("ollama"),
                        OLLAMA_BASE_URLS=[row.url for row in rows],
                        OLLAMA_API_CONFIGS=provider_config.configs(rows))


@router.get("/ollama/config", response_model=OllamaConfig,
            summary="The Ollama connections as Open WebUI lists them (keys left out)")
async def ollama_config(runtime: RuntimeDep, session: Session,
                        _admin: AdminUser) -> OllamaConfig:
    return await _config(runtime, session)


@router.post("/ollama/config/update", response_model=OllamaConfig,
             responses={422: error_response("A URL or option is not acceptable (named).")},
             summary="Replace the Ollama connections (a key left out is kept)")
async def update_ollama_config(form: OllamaConfigForm, runtime: RuntimeDep, session: Session,
                               _admin: AdminUser) -> OllamaConfig:
    wants = provider_config.wanted(form.OLLAMA_BASE_URLS, [], form.OLLAMA_API_CONFIGS)
    await provider_config.update(runtime, session, "ollama", form.ENABLE_OLLAMA_API, wants)
    return await _config(runtime, session)


@router.post("/ollama/verify",
             responses={400: error_response("The server refused (its answer is quoted)."),
                        502: error_response("The URL could not be reached."),
                        504: error_response("The URL did not answer in time.")},
             summary="Try an Ollama URL: its version (nothing saved)")
async def verify_ollama(form: VerifyForm, runtime: RuntimeDep, _admin: AdminUser) -> Any:
    return await probe(checked_url(form.url), "/api/version", form.key,
                       runtime.settings.upstream_connect_timeout)
