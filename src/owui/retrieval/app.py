"""ASGI app of the retrieval service: `uvicorn owui.retrieval.app:app`.

Cheap to import: torch, sentence-transformers, lancedb and chromadb load after start, on
worker threads, so the service answers within a second or two.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from owui.core.service import StartupError, create_service_app
from owui.retrieval.models import RetrievalBase
from owui.retrieval.routes import (
    external,
    external_sources,
    file_queries,
    files,
    knowledge,
    knowledge_dirs,
    knowledge_files,
    knowledge_sync,
    processing,
    retrieval,
    settings,
)
from owui.retrieval.runtime import Runtime
from owui.retrieval.storage import StorageError
from owui.retrieval.vectors import VectorStoreError
from owui.retrieval.web.engines import check_engine


async def _start(app: FastAPI) -> None:
    settings = app.state.settings
    try:
        runtime = Runtime.build(settings, app.state.db, app.state.http)
    except (ValueError, StorageError, VectorStoreError) as exc:
        raise StartupError(f"The retrieval service cannot start: {exc}") from None
    if problem := check_engine(settings):
        raise StartupError(f"The retrieval service cannot start: {problem}")
    app.state.runtime = runtime
    await runtime.start()


async def _stop(app: FastAPI) -> None:
    runtime: Runtime | None = getattr(app.state, "runtime", None)
    if runtime is not None:
        await runtime.close()


app = create_service_app(
    "retrieval",
    # Fixed paths first: `/files/search` is never read as a file id.
    routers=[file_queries.router, files.router, external.router, external_sources.router,
             knowledge.router,
             knowledge_files.router, knowledge_dirs.router, knowledge_sync.router,
             settings.router, processing.router, retrieval.router],
    metadata=RetrievalBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[_start],
    on_shutdown=[_stop],
    outside_http=True,  # web search engines (app.state.http)
)
