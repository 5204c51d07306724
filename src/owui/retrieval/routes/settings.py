"""The admin's Documents and Web Search pages (Open WebUI's `/retrieval/config` and
`/retrieval/embedding`): read and change the settings stored in the live config (live.py),
applied on every replica within about a second. Admins only (403 for anyone else)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from owui.core.auth import AdminUser
from owui.core.errors import BadRequestError
from owui.retrieval.live import EXTERNAL_CONNECTIONS, STORED_ONLY, check
from owui.retrieval.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/api/v1/retrieval", tags=["retrieval settings"])

WEB_KEYS = ("ENABLE_WEB_SEARCH", "WEB_SEARCH_ENGINE", "WEB_SEARCH_RESULT_COUNT",
            "WEB_SEARCH_CONCURRENT_REQUESTS", "SEARXNG_QUERY_URL", "BRAVE_SEARCH_API_KEY",
            "TAVILY_API_KEY", "YOUTUBE_LOADER_LANGUAGE", "YOUTUBE_LOADER_PROXY_URL",
            "YOUTUBE_LOADER_TRANSLATION")
# Stored as checked ("de,en" as a list, "" as no proxy): the loader reads them as they are.
NORMALISED = {"YOUTUBE_LOADER_LANGUAGE": "youtube_loader_language",
              "YOUTUBE_LOADER_PROXY_URL": "youtube_loader_proxy_url"}
EMBEDDING_KEYS = ("RAG_EMBEDDING_ENGINE", "RAG_EMBEDDING_MODEL", "RAG_EMBEDDING_BATCH_SIZE",
                  "ENABLE_ASYNC_EMBEDDING", "RAG_EMBEDDING_CONCURRENT_REQUESTS")


class ConfigForm(BaseModel):
    """Open WebUI's form: the Documents page sends every field it shows; owui keeps those it
    knows (live.py) and passes over the rest (other extraction engines, cloud drives)."""

    model_config = ConfigDict(extra="allow")
    web: dict[str, Any] | None = None


class ConnectionForm(BaseModel):
    url: str | None = None
    key: str | None = None


class EmbeddingForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    RAG_EMBEDDING_ENGINE: str
    RAG_EMBEDDING_MODEL: str
    RAG_EMBEDDING_BATCH_SIZE: int | None = None
    ENABLE_ASYNC_EMBEDDING: bool | None = None
    RAG_EMBEDDING_CONCURRENT_REQUESTS: int | None = None
    openai_config: ConnectionForm | None = None
    ollama_config: ConnectionForm | None = None


def config_view(values: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in values.items()
            if k not in WEB_KEYS and k not in EMBEDDING_KEYS and k != EXTERNAL_CONNECTIONS}
    return {"status": True, **flat, "web": {k: values[k] for k in WEB_KEYS}}


def embedding_view(values: dict[str, Any]) -> dict[str, Any]:
    return {"status": True, **{k: values[k] for k in EMBEDDING_KEYS},
            "openai_config": {"url": values["RAG_OPENAI_API_BASE_URL"], "key": ""},
            "ollama_config": {"url": values["RAG_OLLAMA_BASE_URL"], "key": ""},
            "azure_openai_config": {"url": "", "key": "", "version": ""}}


async def store(rt: Runtime, changes: dict[str, Any]) -> dict[str, Any]:
    """All of `changes` or none: checked together with the current values first."""
    for key, value in changes.items():
        default = STORED_ONLY.get(key)
        number = isinstance(default, float) and type(value) is int  # 1 for 1.0
        if default is not None and value is not None and type(value) is not type(default) \
                and not number:
            raise BadRequestError(f"Invalid setting: {key} must be a "
                                  f"{type(default).__name__}, not {type(value).__name__}.")
    checked = check(rt.live.base, {**rt.config.snapshot(), **changes})
    for key in NORMALISED.keys() & changes.keys():
        changes[key] = getattr(checked, NORMALISED[key])
    return await rt.config.update(changes)


@router.get("/config")
async def get_config(user: AdminUser, rt: RuntimeDep) -> dict[str, Any]:
    return config_view(rt.config.snapshot())


@router.post("/config/update")
async def update_config(form: ConfigForm, user: AdminUser, rt: RuntimeDep) -> dict[str, Any]:
    known = set(rt.config.defaults)
    given = {**(form.model_extra or {}), **(form.web or {})}
    changes = {k: v for k, v in given.items()
               if k in known and k not in EMBEDDING_KEYS and k != EXTERNAL_CONNECTIONS}
    return config_view(await store(rt, changes))


@router.get("/embedding")
async def get_embedding(user: AdminUser, rt: RuntimeDep) -> dict[str, Any]:
    return embedding_view(rt.config.snapshot())


@router.post("/embedding/update")
async def update_embedding(form: EmbeddingForm, user: AdminUser,
                           rt: RuntimeDep) -> dict[str, Any]:
    engine = "" if form.RAG_EMBEDDING_ENGINE == "sentence-transformers" \
        else form.RAG_EMBEDDING_ENGINE
    if engine not in ("", "ollama", "openai"):
        raise BadRequestError(f"RAG_EMBEDDING_ENGINE {engine!r}: owui embeds locally ('') or "
                              "through the inference service ('ollama', 'openai').")
    if not form.RAG_EMBEDDING_MODEL.strip():
        raise BadRequestError("RAG_EMBEDDING_MODEL is empty.")
    changes: dict[str, Any] = {"RAG_EMBEDDING_ENGINE": engine,
                               "RAG_EMBEDDING_MODEL": form.RAG_EMBEDDING_MODEL.strip()}
    for key in ("RAG_EMBEDDING_BATCH_SIZE", "ENABLE_ASYNC_EMBEDDING",
                "RAG_EMBEDDING_CONCURRENT_REQUESTS"):
        if getattr(form, key) is not None:
            changes[key] = getattr(form, key)
    if form.openai_config and form.openai_config.url is not None:
        changes["RAG_OPENAI_API_BASE_URL"] = form.openai_config.url
    if form.ollama_config and form.ollama_config.url is not None:
        changes["RAG_OLLAMA_BASE_URL"] = form.ollama_config.url
    return embedding_view(await store(rt, changes))
