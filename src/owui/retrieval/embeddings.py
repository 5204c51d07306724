"""Embeddings: all-MiniLM-L6-v2 on ONNX Runtime (default; retrieval/bert_onnx.py, no torch), any
other sentence-transformers model by name with the `sentence-transformers` extra, or the
inference service's OpenAI-compatible /embeddings (EMBEDDING_ENGINE=ollama|openai).

The local model is imported and loaded off the event loop, lazily or in the background, and
encodes in batches on worker threads: one for ingestion, one for queries, so a query never
waits behind a long document.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from owui.core.client import ServiceFailed
from owui.core.config import Settings
from owui.core.errors import UnavailableError
from owui.retrieval.clients.inference import InferenceClient
from owui.retrieval.model_files import model_dir

log = logging.getLogger("owui.retrieval.embeddings")
Progress = Callable[[int], Awaitable[None]]


class Embedder(Protocol):
    name: str

    @property
    def state(self) -> str: ...
    def start(self) -> None: ...
    async def embed(self, texts: Sequence[str], *, token: str | None = None,
                    progress: Progress | None = None) -> np.ndarray: ...
    async def embed_query(self, text: str, *, token: str | None = None) -> np.ndarray: ...
    async def close(self) -> None: ...


class EmbeddingUnavailable(UnavailableError):
    """The model could not be loaded; the message says why."""


DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def load_model(name: str = DEFAULT_MODEL, threads: int | None = None) -> Any:
    """An object whose `encode(texts, batch_size)` answers normalised float32 vectors."""
    started = time.monotonic()
    model = _minilm(threads) if name in (DEFAULT_MODEL, "all-MiniLM-L6-v2") else _st(name, threads)
    model.encode(["warm up"], 1)
    log.info("embedding model %s loaded in %.1f s", name, time.monotonic() - started)
    return model


def _minilm(threads: int | None) -> Any:
    from owui.retrieval.bert_onnx import MiniLM

    return MiniLM(model_dir(), threads)


class _SentenceTransformer:
    """Another sentence-transformers model, from the Hugging Face cache (nothing is fetched)."""

    def __init__(self, name: str, threads: int | None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise RuntimeError(
                f"EMBEDDING_MODEL={name} needs sentence-transformers: install owui with "
                "pip install 'owui[sentence-transformers]' (or use the default "
                f"{DEFAULT_MODEL}, which runs without it)") from None
        if threads is not None:
            torch.set_num_threads(threads)
        self.model = SentenceTransformer(name, device="cpu", local_files_only=True)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False
                                 ).astype(np.float32)


def _st(name: str, threads: int | None) -> Any:
    return _SentenceTransformer(name, threads)


class LocalEmbedder:
    def __init__(self, batch_size: int, threads: int, name: str = DEFAULT_MODEL) -> None:
        self.name = name
        self.batch_size = batch_size
        self.threads = threads
        self._ingest = ThreadPoolExecutor(1, thread_name_prefix="embed-ingest")
        self._query = ThreadPoolExecutor(1, thread_name_prefix="embed-query")
        self._model: Any = None
        self._loading: asyncio.Future[Any] | None = None
        self._error: str | None = None

    @property
    def state(self) -> str:
        if self._model is not None:
            return "ready"
        if self._error:
            return f"failed: {self._error}"
        return "loading" if self._loading else "not loaded"

    def start(self) -> None:
        """Begin loading in the background; calls made meanwhile wait for it."""
        if self._loading is None:
            self._error = None
            self._loading = asyncio.get_running_loop().run_in_executor(
                self._query, load_model, self.name, self.threads)
            self._loading.add_done_callback(self._loaded)

    def _loaded(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            self._loading = None
        elif (exc := future.exception()) is not None:
            log.error("the embedding model failed to load: %s", exc)
            self._error = f"{exc.__class__.__name__}: {exc}"
            self._loading = None  # the next call tries again
        else:
            self._model = future.result()

    async def model(self) -> Any:
        if self._model is None:
            self.start()
            assert self._loading is not None
            try:
                return await asyncio.shield(self._loading)
            except Exception as exc:
                raise EmbeddingUnavailable(f"The embedding model failed to load: {exc}") from exc
        return self._model

    async def embed(self, texts: Sequence[str], *, token: str | None = None,
                    progress: Progress | None = None) -> np.ndarray:
        model = await self.model()
        loop = asyncio.get_running_loop()
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            parts.append(await loop.run_in_executor(self._ingest, _encode, model, batch,
                                                    self.batch_size))
            if progress is not None:
                await progress(len(batch))
        return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)

    async def embed_query(self, text: str, *, token: str | None = None) -> np.ndarray:
        model = await self.model()
        loop = asyncio.get_running_loop()
        return (await loop.run_in_executor(self._query, _encode, model, [text], 1))[0]

    async def close(self) -> None:
        self._ingest.shutdown(wait=False, cancel_futures=True)
        self._query.shutdown(wait=False, cancel_futures=True)


def _encode(model: Any, texts: list[str], batch_size: int) -> np.ndarray:
    return model.encode(texts, batch_size)


class RemoteEmbedder:
    """The inference service's /embeddings on behalf of the user (their token)."""

    def __init__(self, settings: Settings, inference: InferenceClient) -> None:
        self.inference = inference
        self.name = settings.embedding_model
        self.batch_size = settings.rag_embedding_batch_size

    @property
    def state(self) -> str:
        return "ready"

    def start(self) -> None:
        return None

    async def embed(self, texts: Sequence[str], *, token: str | None = None,
                    progress: Progress | None = None) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            parts.append(await self._call(batch, token))
            if progress is not None:
                await progress(len(batch))
        return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    async def embed_query(self, text: str, *, token: str | None = None) -> np.ndarray:
        return (await self._call([text], token))[0]

    async def _call(self, batch: list[str], token: str | None) -> np.ndarray:
        if not token:
            raise EmbeddingUnavailable("Remote embeddings need the user's token.")
        rows = await self.inference.embed(token, self.name, batch)
        try:
            vectors = np.asarray(rows, dtype=np.float32)
        except (ValueError, TypeError) as exc:  # ragged, or not numbers
            raise ServiceFailed("inference", 502, f"Malformed embeddings answer: {exc}") from None
        if vectors.ndim != 2:
            raise ServiceFailed("inference", 502, "Malformed embeddings answer: not vectors.")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    async def close(self) -> None:
        return None


def create_embedder(settings: Settings, inference: InferenceClient) -> Embedder:
    if settings.embedding_engine in ("ollama", "openai"):
        return RemoteEmbedder(settings, inference)
    return LocalEmbedder(settings.rag_embedding_batch_size, settings.rag_embedding_threads,
                         settings.embedding_model)
