"""Open WebUI's OpenAI connections settings (admin): `GET /openai/config` (which its web app
also reads for the model menu), `POST /openai/config/update`, `POST /openai/verify` (try a URL and
key, nothing saved) and `GET /openai/models/{url_idx}` (one connection's own model list).
Stored as the connections table's rows (provider_config.py says how keys are kept)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from owui.core.auth import AdminUser
from owui.core.errors import error_response
from owui.core.service import Session
from owui.inference import live, provider_config
from owui.inference.runtime import Runtime, RuntimeDep
from owui.inference.schemas import check_url
from owui.inference.verify import probe

router = APIRouter(tags=["openai"])
_UPSTREAM = {400: error_response("The provider refused (its answer is quoted)."),
             502: error_response("The URL could not be reached."),
             504: error_response("The URL did not answer in time.")}


class OpenAIConnectionConfig(BaseModel):
    enable: bool
    prefix_id: str = ""
    tags: list[Any] = Field(default_factory=list)
    model_ids: list[str] = Field(default_factory=list)
    connection_type: str = "external"


class OpenAIConfig(BaseModel):
    ENABLE_OPENAI_API: bool
    OPENAI_API_BASE_URLS: list[str]
    OPENAI_API_KEYS: list[str]
    OPENAI_API_CONFIGS: dict[str, dict[str, Any]]
    # owui's: may users call /openai/{path} (admins always may)? Open WebUI reads it from its
    # environment only; here an admin sets it with the rest.
    ENABLE_OPENAI_API_PASSTHROUGH: bool = False


class OpenAIConfigForm(BaseModel):
    ENABLE_OPENAI_API: bool | None = None
    ENABLE_OPENAI_API_PASSTHROUGH: bool | None = None
    OPENAI_API_BASE_URLS: list[str] = Field(max_length=provider_config.MAX_CONNECTIONS)
    OPENAI_API_KEYS: list[str] = Field(default_factory=list,
                                       max_length=provider_config.MAX_CONNECTIONS)
    OPENAI_API_CONFIGS: dict[str, Any] = Field(default_factory=dict)


class VerifyForm(BaseModel):
    url: str = Field(max_length=2000)
    key: str = Field(default="", max_length=4000)
    config: dict[str, Any] | None = None


async def _config(runtime: Runtime, session: Session) -> OpenAIConfig:
    rows = await provider_config.rows_of(session, "openai")
    options = provider_config.configs(rows)
    live_config = runtime.catalog.live
    return OpenAIConfig(
        ENABLE_OPENAI_API=runtime.catalog.provider_on("openai"),
        ENABLE_OPENAI_API_PASSTHROUGH=bool(live_config and live_config.get(live.PASSTHROUGH)),
        OPENAI_API_BASE_URLS=[row.url for row in rows], OPENAI_API_KEYS=["" for _ in rows],
        OPENAI_API_CONFIGS={key: {**OpenAIConnectionConfig(
            enable=value["enable"]).model_dump(), **value} for key, value in options.items()})


@router.get("/openai/config", response_model=OpenAIConfig,
            summary="The OpenAI connections as Open WebUI lists them (keys left out)")
async def openai_config(runtime: RuntimeDep, session: Session,
                        _admin: AdminUser) -> OpenAIConfig:
    return await _config(runtime, session)


@router.post("/openai/config/update", response_model=OpenAIConfig,
             responses={422: error_response("A URL or option is not acceptable (named).")},
             summary="Replace the OpenAI connections (a key sent as \"\" is kept)")
async def update_openai_config(form: OpenAIConfigForm, runtime: RuntimeDep, session: Session,
                               _admin: AdminUser) -> OpenAIConfig:
    wants = provider_config.wanted(form.OPENAI_API_BASE_URLS, form.OPENAI_API_KEYS,
                                   form.OPENAI_API_CONFIGS)
    if form.ENABLE_OPENAI_API_PASSTHROUGH is not None and runtime.catalog.live is not None:
        await runtime.catalog.live.update({live.PASSTHROUGH: form.ENABLE_OPENAI_API_PASSTHROUGH})
    await provider_config.update(runtime, session, "openai", form.ENABLE_OPENAI_API, wants)
    return await _config(runtime, session)


def checked_url(value: str) -> str:
    """The form's URL, or 422 naming what is wrong with it."""
    try:
        return check_url(value)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"url: {exc}") from None


@router.post("/openai/verify", responses=_UPSTREAM,
             summary="Try an OpenAI-compatible URL and key: its model list (nothing saved)")
async def verify_openai(form: VerifyForm, runtime: RuntimeDep, _admin: AdminUser) -> Any:
    return await probe(checked_url(form.url), "/models", form.key,
                       runtime.settings.upstream_connect_timeout)


@router.get("/openai/models/{url_idx}", responses=_UPSTREAM,
            summary="One OpenAI connection's own model list, by its position (admin)")
async def connection_models(runtime: RuntimeDep, session: Session, _admin: AdminUser,
                            url_idx: int = Path(ge=0, le=10_000)) -> Any:
    rows = await provider_config.rows_of(session, "openai")
    if url_idx >= len(rows):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"url_idx {url_idx}: there are {len(rows)} OpenAI connections.")
    row = rows[url_idx]
    return await probe(row.url, "/models", row.api_key, runtime.settings.upstream_connect_timeout)
