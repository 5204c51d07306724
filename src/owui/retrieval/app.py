"""ASGI app of the retrieval service: `uvicorn owui.retrieval.app:app`.

Cheap to import: torch, sentence-transformers, lancedb and chromadb load after start, on
worker threads, so the service answers within a second or two.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from owui.core.service import StartupError, create_service_app
from owui.retrieval import crud
from owui.retrieval.chunking import Chunker
from owui.retrieval.embeddings import EmbeddingUnavailable, create_embedder
from owui.retrieval.jobs import Jobs
from owui.retrieval.models import RetrievalBase
from owui.retrieval.routes import files, knowledge, retrieval
from owui.retrieval.runtime import Runtime
from owui.retrieval.storage import StorageError, create_storage
from owui.retrieval.vectors import VectorStoreError, create_store
from owui.retrieval.web.engines import check_engine

log = logging.getLogger("owui.retrieval")
SWEEP_EVERY = 300.0


async def _start(app: FastAPI) -> None:
    settings = app.state.settings
    try:
        chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        storage = create_storage(settings)
        store = create_store(settings)
    except (ValueError, StorageError, VectorStoreError) as exc:
        raise StartupError(f"The retrieval service cannot start: {exc}") from None
    if problem := check_engine(settings):
        raise StartupError(f"The retrieval service cannot start: {problem}")
    tmp_dir = settings.owui_data_dir / "tmp" / "retrieval"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    rt = Runtime(settings, app.state.db.sessions, app.state.http, storage, store,
                 create_embedder(settings, app.state.http), chunker, tmp_dir)
    rt.jobs = Jobs(rt)
    app.state.retrieval = rt
    if settings.rag_embedding_model_preload:
        # Else both load on first use, so an idle service stays small (~100 MB, not ~700).
        await store.start()
        rt.embedder.start()
    rt.spawn(rt.jobs.resume(), "resume-jobs")
    rt.spawn(_sweep(rt), "sweep-expired")


async def _sweep(rt: Runtime) -> None:
    """Temporary collections (web searches) go when they expire."""
    while True:
        try:
            async with rt.sessions() as session:
                for collection in await crud.expired_collections(session, time.time()):
                    await rt.store.delete(collection=collection.key)
                    await session.delete(collection)
                await session.commit()
        except Exception:  # a failed sweep is retried at the next one
            log.exception("sweeping expired collections failed")
        await asyncio.sleep(SWEEP_EVERY)


async def _stop(app: FastAPI) -> None:
    rt: Runtime | None = getattr(app.state, "retrieval", None)
    if rt is not None:
        await rt.close()


def _unavailable(status: int):
    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s: %s", exc.__class__.__name__, exc)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handler


app = create_service_app(
    "retrieval",
    routers=[files.router, knowledge.router, retrieval.router],
    metadata=RetrievalBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[_start],
    on_shutdown=[_stop],
)
for error in (VectorStoreError, EmbeddingUnavailable, StorageError):
    app.add_exception_handler(error, _unavailable(503))
