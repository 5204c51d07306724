"""ASGI app of the inference service: `uvicorn owui.inference.app:app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware import Middleware

from owui.core.service import create_service_app
from owui.inference import live
from owui.inference.models import InferenceBase
from owui.inference.routes import (
    calls,
    connections,
    messages,
    model_images,
    model_transfer,
    model_unload,
    model_versions,
    models,
    ollama,
    ollama_config,
    ollama_files,
    ollama_v1,
    openai_config,
    openai_model_admin,
    openai_proxy,
)
from owui.inference.runtime import Runtime


async def _start(app: FastAPI) -> None:
    app.state.runtime = Runtime(app.state.settings, app.state.db.sessions)
    await live.attach(app.state.runtime, app.state.db)
    await app.state.runtime.start()


async def _stop(app: FastAPI) -> None:
    await live.detach(app.state.runtime)
    await app.state.runtime.stop()


app = create_service_app(
    "inference",
    routers=[connections.router, calls.router, ollama.router, ollama_v1.router, ollama_files.router,
             messages.router, openai_config.router, ollama_config.router, model_images.router,
             model_transfer.router, model_versions.router, model_unload.router, models.router,
             # openai_proxy last: its /openai/{path} catches what no route above takes
             openai_model_admin.router, openai_proxy.router],
    metadata=InferenceBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[_start],
    on_shutdown=[_stop],
    middleware=[Middleware(calls.CallRoutes)],
)
calls.document_calls(app)
