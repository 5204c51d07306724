"""Request bodies of the agent's routes."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from owui.agent.plugins.source import ID_PATTERN
from owui.core.errors import InvalidError

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: Any, where: str) -> M:
    """A form from data that did not come through FastAPI's own checks: 422 naming fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or where}: {e['msg']}"
                             for e in exc.errors()[:10])
        raise InvalidError(f"Invalid {where}: {problems}") from None


SESSION_ID = r"^[A-Za-z0-9_.-]{1,64}$"
NAME = Field(min_length=1, max_length=200)


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: Any = None


class RunForm(BaseModel):
    """An agent run. Fields not named here (temperature, max_tokens, ...) go to the model."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=300)
    messages: list[Message] = Field(min_length=1)
    tool_ids: list[str] = Field(default_factory=list, max_length=64)
    filter_ids: list[str] = Field(default_factory=list, max_length=64)
    stream: bool = True
    max_steps: int | None = Field(default=None, ge=1, le=100)
    tool_timeout: float | None = Field(default=None, gt=0, le=3600)
    session_id: str | None = Field(default=None, pattern=SESSION_ID)
    collection_names: list[str] = Field(default_factory=list, max_length=100)
    chat_id: str | None = Field(default=None, max_length=128)
    # Attachments searched before the model (Open WebUI's `files` items: {"type": "file" or
    # "collection", "id": ...}), and web search (`features.web_search`, or `web_search`).
    files: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    file_ids: list[str] = Field(default_factory=list, max_length=100)
    features: dict[str, Any] = Field(default_factory=dict)
    web_search: bool = False

    def attachments(self) -> tuple[list[str], list[str]]:
        """(collection ids, file ids) of what is attached, each once."""
        collections: list[str] = []
        files = list(self.file_ids)
        for item in self.files:
            ident = item.get("id")
            if not isinstance(ident, str) or not ident:
                raise InvalidError("Each item of 'files' needs a string 'id'.")
            kind = item.get("type") or "file"
            if kind == "collection":
                collections.append(ident)
            elif kind in ("file", "doc"):
                files.append(ident)  # other kinds (images, ...) are not searched
        return list(dict.fromkeys(collections)), list(dict.fromkeys(files))

    def wants_web_search(self) -> bool:
        return self.web_search or bool(self.features.get("web_search"))

    def model_body(self) -> dict[str, Any]:
        extra = {k: v for k, v in (self.model_extra or {}).items()
                 if k not in ("tools", "tool_choice", "stream_options")}
        return {"model": self.model,
                "messages": [m.model_dump(exclude_none=False) for m in self.messages],
                **extra}


class Meta(BaseModel):
    model_config = ConfigDict(extra="allow")

    description: str | None = None
    manifest: dict[str, Any] | None = Field(default_factory=dict)


class ToolForm(BaseModel):
    id: str = Field(pattern=ID_PATTERN, description="letters, digits and _; not a digit first")
    name: str = NAME
    content: str = Field(min_length=1, max_length=1_000_000)
    meta: Meta = Field(default_factory=Meta)
    access_grants: list[dict[str, Any]] | None = None
    commit_message: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class AccessGrantsForm(BaseModel):
    access_grants: list[dict[str, Any]]


class FunctionForm(BaseModel):
    id: str = Field(pattern=ID_PATTERN, description="letters, digits and _; not a digit first")
    name: str = NAME
    content: str = Field(min_length=1, max_length=1_000_000)
    meta: Meta = Field(default_factory=Meta)
    commit_message: str | None = None


class LoadUrlForm(BaseModel):
    url: str = Field(min_length=1, max_length=2083)


class SyncedFunction(BaseModel):
    """An item of `/functions/sync` (Open WebUI's FunctionWithValvesModel)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=ID_PATTERN)
    name: str = NAME
    content: str = Field(min_length=1, max_length=1_000_000)
    meta: Meta = Field(default_factory=Meta)
    valves: dict[str, Any] | None = None
    is_active: bool = False
    is_global: bool = False

    def form(self) -> FunctionForm:
        return FunctionForm(id=self.id, name=self.name, content=self.content, meta=self.meta)


class SyncFunctionsForm(BaseModel):
    functions: list[SyncedFunction] = Field(default_factory=list, max_length=1000)


class CodeForm(BaseModel):
    code: str = Field(max_length=1_000_000)
    session_id: str | None = Field(default=None, pattern=SESSION_ID)
    timeout: float | None = Field(default=None, gt=0, le=3600)


class ActionForm(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(default="", max_length=300)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    id: str | None = None
    chat_id: str | None = None


class TaskForm(BaseModel):
    kind: Literal["title", "tags", "follow_up", "queries", "image_prompt", "auto", "emoji",
                  "moa", "run"]
    body: dict[str, Any]
