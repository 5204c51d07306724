"""The shapes of the gateway's live settings, checked before anything is stored: one form per
settings page, and `GatewayConfig` for a whole import (every key optional, none unknown)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from owui.gateway.routes.auths_admin import AdminConfigForm


class BannerModel(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    type: str = Field(max_length=50)
    title: str | None = Field(default=None, max_length=1_000)
    content: str = Field(max_length=20_000)
    dismissible: bool
    timestamp: int
    i18n: dict[str, dict[str, str]] | None = None


class SetBannersForm(BaseModel):
    banners: list[BannerModel] = Field(max_length=100)


class PromptSuggestion(BaseModel):
    title: list[str] = Field(max_length=10)
    content: str = Field(max_length=20_000)


class SetDefaultSuggestionsForm(BaseModel):
    suggestions: list[PromptSuggestion] | None = Field(max_length=200)
    i18n: dict[str, Any] | None = None


class ModelsConfigForm(BaseModel):
    DEFAULT_MODELS: str | None
    DEFAULT_PINNED_MODELS: str | None
    MODEL_ORDER_LIST: list[str] | None
    DEFAULT_MODEL_METADATA: dict[str, Any] | None = None
    DEFAULT_MODEL_PARAMS: dict[str, Any] | None = None


class InterfaceVisibilityForm(BaseModel):
    visibility: dict[str, StrictBool]


class ConnectionsConfigForm(BaseModel):
    ENABLE_DIRECT_CONNECTIONS: bool
    ENABLE_DIRECT_INTEGRATIONS: bool = False
    ENABLE_BASE_MODELS_CACHE: bool


class GatewayConfig(AdminConfigForm):
    """What `/api/v1/configs/export` answers and `/import` takes: the gateway's settings by
    their names (Open WebUI's AdminConfig names where it has them)."""

    model_config = ConfigDict(extra="forbid")

    BANNERS: list[BannerModel] | None = None
    DEFAULT_MODELS: str | None = None
    DEFAULT_PINNED_MODELS: str | None = None
    MODEL_ORDER_LIST: list[str] | None = None
    DEFAULT_MODEL_METADATA: dict[str, Any] | None = None
    DEFAULT_MODEL_PARAMS: dict[str, Any] | None = None
    DEFAULT_PROMPT_SUGGESTIONS: list[PromptSuggestion] | None = None
    DEFAULT_PROMPT_SUGGESTIONS_I18N: dict[str, Any] | None = None
    UI_VISIBILITY: dict[str, StrictBool] | None = None
    USER_PERMISSIONS: dict[str, dict[str, StrictBool]] | None = None
