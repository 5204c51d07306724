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
from owui.retrieval import crud
from owui.retrieval.chunking import Chunker
from owui.retrieval.clients.inference import InferenceClient
from owui.retrieval.embeddings import Embedder, create_embedder
from owui.retrieval.jobs import Jobs
from owui.retrieval.pipeline import Pipeline
from owui.retrieval.storage import Storage, create_storage
from owui.retrieval.tasks import Tasks
from owui.retrieval.vectors import VectorStore, create_store

SWEEP_EVERY = 300.0  # seconds between sweeps of expired temporary collections


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient  # web search engines and pages
    storage: Storage
    store: VectorStore
    embedder: Embedder
    pipeline: Pipeline
    jobs: Jobs
    tasks: Tasks
    tmp_dir: Path

    @classmethod
    def build(cls, settings: Settings, sessions: async_sessionmaker[AsyncSession],
              http: httpx.AsyncClient) -> Runtime:
        """Raises ValueError, StorageError or VectorStoreError on a setting that cannot work."""
        chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        storage = create_storage(settings)
        store = create_store(settings)
        embedder = create_embedder(settings, InferenceClient(settings))
        tmp_dir = settings.owui_data_dir / "tmp" / "retrieval"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tasks = Tasks()
        pipeline = Pipeline(chunker, embedder, store, tasks)
        jobs = Jobs(settings, sessions, storage, pipeline, tasks, tmp_dir)
        return cls(settings, sessions, http, storage, store, embedder, pipeline, jobs, tasks,
                   tmp_dir)

    @property
    def max_file_size(self) -> int:
        return int(self.settings.rag_file_max_size * 1024 * 1024)

    async def start(self) -> None:
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
        await self.tasks.close()
        await self.embedder.close()
        await self.store.close()


# Dependencies are async: FastAPI runs a sync one in a thread.
async def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
