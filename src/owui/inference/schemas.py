"""Request and response shapes: OpenAI's for calls, Open WebUI's for model presets, ours for
connections."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

Provider = Literal["ollama", "openai"]


class _Open(BaseModel):
    """Checks the fields it names and lets every other one through to the provider."""

    model_config = ConfigDict(extra="allow")


class ChatMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class ChatCompletionRequest(_Open):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: int | None = None
    stop: str | list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


class EmbeddingsRequest(_Open):
    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, ge=1)


# Connections


def check_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value.strip().rstrip("/")


class ConnectionForm(BaseModel):
    provider: Provider
    url: str = Field(max_length=2000)
    api_key: str | None = Field(default=None, max_length=4000)
    name: str = Field(default="", max_length=200)
    prefix_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)


class ConnectionUpdate(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    api_key: str | None = Field(default=None, max_length=4000)
    name: str | None = Field(default=None, max_length=200)
    prefix_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{0,64}$")
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)


class ConnectionModel(BaseModel):
    id: str
    provider: Provider
    url: str
    name: str
    prefix_id: str | None
    enabled: bool
    source: Literal["env", "admin"]
    has_api_key: bool
    position: int
    status: Literal["ok", "down", "unknown"]
    error: str | None
    models: int
    in_flight: int
    created_at: int
    updated_at: int


class ConnectionTest(BaseModel):
    ok: bool
    models: list[str]
    latency_ms: float
    error: str | None = None


# Model presets, as Open WebUI's workspace models


class AccessGrantModel(BaseModel):
    id: str
    resource_type: str = "model"
    resource_id: str
    principal_type: Literal["user", "group"]
    principal_id: str
    permission: Literal["read", "write"]
    created_at: int


class AccessGrantForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    principal_type: Literal["user", "group"]
    principal_id: str = Field(min_length=1, max_length=64)
    permission: Literal["read", "write"]


class ModelForm(BaseModel):
    id: str = Field(pattern=r"^\S+$", min_length=1, max_length=256)
    base_model_id: str | None = Field(default=None, max_length=512)
    name: str = Field(min_length=1, max_length=512)
    meta: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    access_grants: list[AccessGrantForm] | None = None
    is_active: bool = True
    commit_message: str | None = None


class ModelModel(BaseModel):
    version_id: str | None = None
    id: str
    user_id: str
    base_model_id: str | None
    name: str
    params: dict[str, Any]
    meta: dict[str, Any]
    access_grants: list[AccessGrantModel]
    is_active: bool
    updated_at: int
    created_at: int


class ModelAccessResponse(ModelModel):
    write_access: bool = False


class ModelAccessListResponse(BaseModel):
    items: list[ModelAccessResponse]
    total: int


class ModelIdForm(BaseModel):
    id: str = Field(min_length=1)


class ModelAccessGrantsForm(BaseModel):
    id: str = Field(pattern=r"^\S+$", min_length=1, max_length=256)
    name: str | None = None
    access_grants: list[AccessGrantForm]


class ModelExportResponse(ModelModel):
    background_image_data: str | None = None


class ModelsImportForm(BaseModel):
    models: list[dict[str, Any]] = Field(max_length=1000)


class SyncModelsForm(BaseModel):
    models: list[ModelForm] = Field(default_factory=list, max_length=1000)


class ModelVersionForm(BaseModel):
    version_id: str = Field(min_length=1, max_length=64)


class ModelHistoryResponse(BaseModel):
    id: str
    model_id: str
    parent_id: str | None = None
    user_id: str
    commit_message: str | None = None
    created_at: int
    user: dict[str, Any] | None = None


class ModelHistoryModel(ModelHistoryResponse):
    snapshot: dict[str, Any]


class ModelUnloadForm(BaseModel):
    model: str = Field(min_length=1, max_length=512)
