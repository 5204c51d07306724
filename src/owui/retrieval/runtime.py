"""What the retrieval service keeps while it runs (`Runtime`, built whole at start-up by
app.py: stores, embedder, pipeline, jobs, background tasks), and the dependency routes use to
reach it (`runtime_of`, `RuntimeDep`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core.background import every
from owui.core.config import Settings
from owui.core.db import Database
from owui.core.live_config import LiveConfig
from owui.retrieval import crud
from owui.retrieval.chunking import Chunker
from owui.retrieval.clients.inference import InferenceClient
from owui.retrieval.embeddings import Embedder, create_embedder
from owui.retrieval.jobs import Jobs
from owui.retrieval.live import CHUNKING, EMBEDDING, LiveSettings, defaults
from owui.retrieval.models import LIVE_CONFIG
from owui.retrieval.pipeline import Pipeline
from owui.retrieval.storage import Storage, create_storage
from owui.retrieval.tasks import Tasks
from owui.retrieval.vectors import VectorStore, create_store

SWEEP_EVERY = 300.0  # seconds between sweeps of expired temporary collections


@dataclass(frozen=True, slots=True)
class Runtime:
    live: LiveSettings  # the settings with the admin's changes laid over (live.py)
    config: LiveConfig  # where those changes are stored and shared between replicas
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient  # web search engines and pages
    storage: Storage
    store: VectorStore
    pipeline: Pipeline
    jobs: Jobs
    tasks: Tasks
    tmp_dir: Path

    @classmethod
    def build(cls, settings: Settings, db: Database, http: httpx.AsyncClient) -> Runtime:
        """Raises ValueError, StorageError or VectorStoreError on a setting that cannot work."""
        chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        storage = create_storage(settings)
        store = create_store(settings)
        embedder = create_embedder(settings, InferenceClient(settings))
        tmp_dir = settings.owui_data_dir / "tmp" / "retrieval"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tasks = Tasks()
        pipeline = Pipeline(chunker, embedder, store, tasks)
        jobs = Jobs(settings, db.sessions, storage, pipeline, tasks, tmp_dir)
        config = LiveConfig(db, LIVE_CONFIG, defaults(settings))
        runtime = cls(LiveSettings(settings), config, db.sessions, http, storage, store,
                      pipeline, jobs, tasks, tmp_dir)
        config.on_change(runtime._settings_changed)
        return runtime

    @property
    def settings(self) -> Settings:
        return self.live.settings

    @property
    def embedder(self) -> Embedder:
        return self.pipeline.embedder

    def _settings_changed(self, keys: set[str]) -> None:
        """A stored setting changed (here or on another replica): lay it over the Settings,
        and rebuild what was built from the old values."""
        self.live.apply(self.config.snapshot(), keys)
        settings = self.live.settings
        if keys & CHUNKING:
            self.pipeline.chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        if keys & EMBEDDING:
            old = self.pipeline.embedder
            self.pipeline.embedder = create_embedder(settings, InferenceClient(settings))
            self.tasks.spawn(old.close(), "close-old-embedder")

    @property
    def max_file_size(self) -> int:
        return int(self.settings.rag_file_max_size * 1024 * 1024)

    async def start(self) -> None:
        await self.config.start()
        if self.settings.rag_embedding_model_preload:
            # Else both load on first use, so an idle service stays small (~100 MB, not ~700).
            await self.store.start()
            self.embedder.start()
        self.tasks.spawn(self.jobs.resume(), "resume-jobs")
        self.tasks.keep(every(SWEEP_EVERY, self._sweep, name="sweep-expired", now=True))

    async def _sweep(self) -> None:
        """Temporary collections (web searches) go when they expire."""
        async with self.sessions() as session:
            for collection in await crud.expired_collections(session, time.time()):
                await self.store.delete(collection=collection.key)
                await session.delete(collection)
            await session.commit()

    async def close(self) -> None:
        await self.config.stop()
        await self.tasks.close()
        await self.embedder.close()
        await self.store.close()


# Dependencies are async: FastAPI runs a sync one in a thread.
async def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
