"""The documents and web search settings an admin changes from the app (Open WebUI's names),
kept in owui.core.live_config: the environment gives the first values, a change made on one
replica applies on every replica within about a second (the refresh loop), at once here.

`LiveSettings.settings` is the service's Settings with the stored values laid over it: the
code that reads `rt.settings` sees a change without knowing where it came from. Chunking and
the embedding model are rebuilt by listeners (runtime.py) when their keys change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from owui.core.config import Settings
from owui.core.errors import BadRequestError
from owui.retrieval.template import TEMPLATE

# Open WebUI's key -> the Settings field it sets (keys absent here are stored and shown only).
FIELDS: dict[str, str] = {
    "TOP_K": "rag_top_k",
    "RELEVANCE_THRESHOLD": "rag_relevance_threshold",
    "ENABLE_RAG_HYBRID_SEARCH": "enable_rag_hybrid_search",
    "CHUNK_SIZE": "chunk_size",
    "CHUNK_OVERLAP": "chunk_overlap",
    "FILE_MAX_SIZE": "rag_file_max_size",
    "RAG_EMBEDDING_ENGINE": "embedding_engine",
    "RAG_EMBEDDING_MODEL": "embedding_model",
    "RAG_EMBEDDING_BATCH_SIZE": "rag_embedding_batch_size",
    "WEB_SEARCH_ENGINE": "web_search_engine",
    "WEB_SEARCH_RESULT_COUNT": "web_search_result_count",
    "WEB_SEARCH_CONCURRENT_REQUESTS": "web_search_concurrent_requests",
    "SEARXNG_QUERY_URL": "searxng_query_url",
    "BRAVE_SEARCH_API_KEY": "brave_search_api_key",
    "TAVILY_API_KEY": "tavily_api_key",
    "YOUTUBE_LOADER_LANGUAGE": "youtube_loader_language",
    "YOUTUBE_LOADER_PROXY_URL": "youtube_loader_proxy_url",
}
EXTERNAL_CONNECTIONS = "EXTERNAL_KNOWLEDGE_CONNECTIONS"
SECRETS = frozenset({"BRAVE_SEARCH_API_KEY", "TAVILY_API_KEY"})
CHUNKING = frozenset({"CHUNK_SIZE", "CHUNK_OVERLAP"})
EMBEDDING = frozenset({"RAG_EMBEDDING_ENGINE", "RAG_EMBEDDING_MODEL", "RAG_EMBEDDING_BATCH_SIZE"})
# Shown by the Documents page and kept; owui's pipeline has no use for them (one extractor,
# one splitter, rank fusion instead of a reranker).
STORED_ONLY: dict[str, Any] = {
    "RAG_TEMPLATE": TEMPLATE,
    "TOP_K_RERANKER": 3,
    "HYBRID_BM25_WEIGHT": 0.5,
    "RAG_FULL_CONTEXT": False,
    "BYPASS_EMBEDDING_AND_RETRIEVAL": False,
    "ENABLE_RAG_HYBRID_SEARCH_ENRICHED_TEXTS": False,
    "CONTENT_EXTRACTION_ENGINE": "",
    "PDF_EXTRACT_IMAGES": False,
    "TEXT_SPLITTER": "token",
    "RAG_RERANKING_ENGINE": "",
    "RAG_RERANKING_MODEL": "",
    "FILE_MAX_COUNT": None,
    "ALLOWED_FILE_EXTENSIONS": [],
    "ENABLE_GOOGLE_DRIVE_INTEGRATION": False,
    "ENABLE_ONEDRIVE_INTEGRATION": False,
    "ENABLE_WEB_SEARCH": True,
    "ENABLE_ASYNC_EMBEDDING": True,
    "RAG_EMBEDDING_CONCURRENT_REQUESTS": 0,
    # Open WebUI's defaults: the Documents page will not save an empty URL for these engines.
    "RAG_OPENAI_API_BASE_URL": "https://api.openai.com/v1",
    "RAG_OLLAMA_BASE_URL": "http://localhost:11434",
    # A language to translate captions into: owui reads the captions as they are.
    "YOUTUBE_LOADER_TRANSLATION": None,
    # The admin's external knowledge connections (routes/external.py), not a Documents field.
    EXTERNAL_CONNECTIONS: [],
}


def defaults(settings: Settings) -> dict[str, Any]:
    """The first values: the environment's (Settings), then Open WebUI's defaults."""
    values = {key: _plain(getattr(settings, name)) for key, name in FIELDS.items()}
    values["RAG_EMBEDDING_ENGINE"] = settings.embedding_engine or ""
    return {**values, **STORED_ONLY}


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


class LiveSettings:
    """The current Settings, rebuilt when the stored values change (`apply`)."""

    def __init__(self, base: Settings) -> None:
        self.base = base
        self.settings = base
        self.values: dict[str, Any] = defaults(base)
        self._listeners: list[Callable[[set[str]], object]] = []

    def on_change(self, listener: Callable[[set[str]], object]) -> None:
        self._listeners.append(listener)

    def apply(self, values: dict[str, Any], changed: set[str]) -> None:
        self.values = values
        self.settings = overlay(self.base, values)
        for listener in self._listeners:
            listener(changed)


def overlay(base: Settings, values: dict[str, Any]) -> Settings:
    update = {name: values[key] for key, name in FIELDS.items() if key in values}
    update["embedding_engine"] = update.get("embedding_engine") or ""
    for key in SECRETS:
        secret = values.get(key)
        update[FIELDS[key]] = SecretStr(secret) if secret else None
    return base.model_copy(update=update)


def check(base: Settings, values: dict[str, Any]) -> Settings:
    """The Settings these values make, validated as the environment's are; 400 names the
    first fault (nothing is stored then)."""
    candidate = overlay(base, values)
    data = candidate.model_dump(warnings=False)
    try:
        checked = type(base).model_validate(data)
    except ValueError as exc:
        raise BadRequestError(f"Invalid setting: {_first_error(exc)}") from None
    if checked.chunk_overlap >= checked.chunk_size:
        raise BadRequestError(f"CHUNK_OVERLAP ({checked.chunk_overlap}) must be below "
                              f"CHUNK_SIZE ({checked.chunk_size}).")
    return checked


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        key = next((k for k, f in FIELDS.items() if f == field), field)
        return f"{key}: {first.get('msg')}"
    return str(exc)
