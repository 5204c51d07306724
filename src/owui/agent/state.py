"""What the agent service keeps while it runs, and the dependencies routes use to reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from owui.agent.clients.inference import InferenceClient
from owui.agent.clients.retrieval import RetrievalClient
from owui.agent.jobs import Jobs
from owui.agent.models import Function, Tool
from owui.agent.plugins.loaded import PluginCache
from owui.agent.sandbox.pool import KernelPool
from owui.agent.snapshot import Snapshot
from owui.agent.tools.base import CallContext
from owui.core.config import Settings
from owui.core.db import Database
from owui.core.tokens import Claims


@dataclass
class Agent:
    settings: Settings
    db: Database
    inference: InferenceClient
    retrieval: RetrievalClient
    plugins: PluginCache
    functions: Snapshot[list[Function]]  # the active ones
    model_tools: Snapshot[dict[str, list[Tool]]]
    kernels: KernelPool
    jobs: Jobs

    def context(self, user: Claims, token: str, **values: object) -> CallContext:
        return CallContext(user=user, token=token, inference=self.inference,
                           retrieval=self.retrieval,
                           settings=self.settings, kernels=self.kernels,
                           **values)  # type: ignore[arg-type]


# Dependencies are async: FastAPI runs a sync one in a thread, a hop on every run's path.
async def agent_of(request: Request) -> Agent:
    return request.app.state.agent


AgentDep = Annotated[Agent, Depends(agent_of)]
