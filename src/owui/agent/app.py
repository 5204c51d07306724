"""ASGI app of the agent service: `uvicorn owui.agent.app:app`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from owui.agent import crud
from owui.agent.clients.chat import ChatClient
from owui.agent.clients.inference import InferenceClient
from owui.agent.clients.retrieval import RetrievalClient
from owui.agent.jobs import Jobs
from owui.agent.live import live_config
from owui.agent.model_extras import ModelExtrasCache
from owui.agent.models import AgentBase
from owui.agent.plugins.loaded import PluginCache
from owui.agent.routes import (
    actions,
    agents,
    code,
    code_config,
    functions,
    pipelines,
    tasks,
    tools,
    workflows,
)
from owui.agent.runtime import Runtime
from owui.agent.sandbox.pool import KernelPool
from owui.agent.snapshot import Snapshot
from owui.agent.workflows.engine import fail_interrupted_steps
from owui.core.service import create_service_app


async def _start(app: FastAPI) -> None:
    settings, db = app.state.settings, app.state.db
    inference = InferenceClient(settings)
    runtime = Runtime(
        settings=settings, db=db, inference=inference,
        retrieval=RetrievalClient(settings), plugins=PluginCache(),
        functions=Snapshot(crud.active_functions), model_tools=Snapshot(crud.tools_by_model),
        kernels=KernelPool(settings),
        jobs=Jobs(db, on_interrupted=[partial(fail_interrupted_steps, db)]),
        config=live_config(db, settings), chat=ChatClient(settings),
        model_extras=ModelExtrasCache(inference))
    app.state.runtime = runtime
    await runtime.start()


async def _stop(app: FastAPI) -> None:
    await app.state.runtime.stop()


app = create_service_app(
    "agent",
    routers=[agents.router, code.router, code_config.router, tools.router, functions.router,
             tasks.router, workflows.router, pipelines.router, actions.router],
    metadata=AgentBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[_start],
    on_shutdown=[_stop],
    outside_http=True,  # tools and functions loaded from a URL (app.state.http)
)
