"""What the agent service keeps while it runs (`Runtime`, built whole at start-up by app.py),
and the dependency routes use to reach it (`runtime_of`, `RuntimeDep`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from owui.agent.clients.chat import ChatClient
from owui.agent.clients.inference import InferenceClient
from owui.agent.clients.retrieval import RetrievalClient
from owui.agent.jobs import Jobs
from owui.agent.model_extras import ModelExtrasCache
from owui.agent.models import Function, Tool
from owui.agent.plugins.loaded import PluginCache
from owui.agent.sandbox.pool import KernelPool
from owui.agent.snapshot import Snapshot
from owui.agent.tools.base import CallContext
from owui.core.config import Settings
from owui.core.db import Database
from owui.core.live_config import LiveConfig
from owui.core.tokens import Claims


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    db: Database
    inference: InferenceClient
    retrieval: RetrievalClient
    plugins: PluginCache
    functions: Snapshot[list[Function]]  # the active ones
    model_tools: Snapshot[dict[str, list[Tool]]]
    kernels: KernelPool
    jobs: Jobs
    config: LiveConfig  # task and code execution settings (owui.agent.live)
    chat: ChatClient  # an action's events to the chat's pages
    model_extras: ModelExtrasCache  # a preset's knowledge and filters (model_extras.py)

    async def start(self) -> None:
        await self.config.start()
        await self.kernels.start()
        await self.jobs.start()

    async def stop(self) -> None:
        await self.jobs.stop()
        await self.kernels.stop()
        await self.config.stop()

    def context(self, user: Claims, token: str, **values: object) -> CallContext:
        return CallContext(user=user, token=token, inference=self.inference,
                           retrieval=self.retrieval, settings=self.settings,
                           kernels=self.kernels, **values)  # type: ignore[arg-type]


# Dependencies are async: FastAPI runs a sync one in a thread, a hop on every run's path.
async def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
