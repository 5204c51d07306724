"""ASGI app of the agent service: `uvicorn owui.agent.app:app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from owui.agent import crud
from owui.agent.clients.inference import InferenceClient
from owui.agent.clients.retrieval import RetrievalClient
from owui.agent.jobs import Jobs
from owui.agent.models import AgentBase
from owui.agent.plugins.loaded import PluginCache
from owui.agent.routes import agents, code, functions, tasks, tools, workflows
from owui.agent.sandbox.pool import KernelPool
from owui.agent.snapshot import Snapshot
from owui.agent.state import Agent
from owui.agent.workflows.engine import fail_interrupted_steps
from owui.core.service import create_service_app


async def _start(app: FastAPI) -> None:
    settings = app.state.settings
    agent = Agent(settings=settings, db=app.state.db, inference=InferenceClient(settings),
                  retrieval=RetrievalClient(settings), plugins=PluginCache(),
                  functions=Snapshot(crud.active_functions),
                  model_tools=Snapshot(crud.tools_by_model), kernels=KernelPool(settings),
                  jobs=Jobs(app.state.db))

    async def interrupted(run_ids: list[str]) -> None:
        await fail_interrupted_steps(agent, run_ids)

    agent.jobs.on_interrupted.append(interrupted)
    app.state.agent = agent
    await agent.kernels.start()
    await agent.jobs.start()


async def _stop(app: FastAPI) -> None:
    await app.state.agent.jobs.stop()
    await app.state.agent.kernels.stop()


app = create_service_app(
    "agent",
    routers=[agents.router, code.router, tools.router, functions.router, tasks.router,
             workflows.router],
    metadata=AgentBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[_start],
    on_shutdown=[_stop],
)
