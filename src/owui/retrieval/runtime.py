"""Everything the routes share, made once at start: stores, embedder, chunker, jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core.config import Settings
from owui.retrieval.chunking import Chunker
from owui.retrieval.embeddings import Embedder
from owui.retrieval.storage import Storage
from owui.retrieval.vectors import VectorStore

if TYPE_CHECKING:
    from owui.retrieval.jobs import Jobs

log = logging.getLogger("owui.retrieval")
MAINTAIN_DELAY = 2.0


@dataclass
class Runtime:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    storage: Storage
    store: VectorStore
    embedder: Embedder
    chunker: Chunker
    tmp_dir: Path
    jobs: Jobs = field(init=False)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    ingesting: int = 0  # documents being embedded and written right now
    _maintenance: asyncio.Task[None] | None = None

    @property
    def max_file_size(self) -> int:
        return int(self.settings.rag_file_max_size * 1024 * 1024)

    def spawn(self, coro: object, name: str) -> asyncio.Task[None]:
        """A background task that is kept referenced and cancelled at shutdown."""
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def request_maintenance(self) -> None:
        """Fold new rows into the store's indexes soon, once, whatever the number of calls."""
        if self._maintenance is None or self._maintenance.done():
            self._maintenance = self.spawn(self._maintain(), "vector-maintenance")

    async def _maintain(self) -> None:
        # Index upkeep competes with embedding for the cores: wait for a quiet moment. New
        # rows are searchable meanwhile (LanceDB scans what its indexes do not cover yet).
        quiet = False
        while not quiet:
            await asyncio.sleep(MAINTAIN_DELAY)
            quiet = self.ingesting == 0
        try:
            await self.store.maintain()
        except Exception:  # upkeep failing must not take anything else down
            log.exception("vector store maintenance failed")

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.embedder.close()
        await self.store.close()


def runtime(request: Request) -> Runtime:
    return request.app.state.retrieval
