"""ASGI app of the inference service: `uvicorn owui.inference.app:app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware import Middleware

from owui.core.service import create_service_app
from owui.inference.models import InferenceBase
from owui.inference.routes import (
    calls,
    connections,
    messages,
    model_images,
    models,
    ollama,
    ollama_files,
    ollama_v1,
    openai_config,
)
from owui.inference.runtime import Runtime


async def _start(app: FastAPI) -> None:
    app.state.runtime = Runtime(app.state.settings, app.state.db.sessions)
    await app.state.runtime.start()


async def _stop(app: FastAPI) -> None:
    await app.state.runtime.stop()


app = create_service_app(
    "inference",
    routers=[connections.router, calls.router, ollama.router, ollama_v1.router,
             ollama_files.router, messages.router, openai_config.router, model_images.router,
             models.router],
    metadata=InferenceBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[_start],
    on_shutdown=[_stop],
    middleware=[Middleware(calls.CallRoutes)],
)
calls.document_calls(app)
