"""What the inference service keeps while it runs (`Runtime`, built whole at start-up by
app.py: connections, their models, presets), and the dependency routes use to reach it
(`runtime_of`, `RuntimeDep`)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core.background import cancel_and_wait
from owui.core.config import Settings
from owui.core.errors import NotFoundError
from owui.core.tokens import Claims
from owui.inference import crud
from owui.inference.catalog import Catalog, Target
from owui.inference.clients.agent import AgentClient
from owui.inference.functions import ModelFunctions
from owui.inference.presets import Presets, PresetView

log = logging.getLogger("owui.inference")
# Other replicas' changes to connections and presets are read again after this many seconds.
SYNC_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class Resolved:
    targets: list[Target]
    preset: PresetView | None


class Runtime:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.catalog = Catalog(settings)
        self.presets = Presets(sessions)
        self.functions = ModelFunctions(AgentClient(settings))  # actions and filters listed
        self.wait = settings.upstream_connect_timeout
        self._synced_at = time.monotonic()
        self._syncing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async with self.sessions() as session:
            try:
                await crud.seed_connections(session, self.settings)
            except IntegrityError:  # another replica seeded them at the same moment
                await session.rollback()
        await self.reload_connections()
        await self.presets.reload()
        # Warm the model lists in the background: start-up never waits on a provider.
        for upstream in self.catalog.enabled():
            upstream.refresh()

    async def stop(self) -> None:
        await cancel_and_wait(self._syncing)
        await self.functions.close()
        await self.catalog.close()

    def sync_soon(self) -> None:
        """Read connections and presets again in the background when they may be stale:
        requests never wait on the database for them."""
        if time.monotonic() - self._synced_at < SYNC_AFTER or (
                self._syncing is not None and not self._syncing.done()):
            return
        self._synced_at = time.monotonic()
        self._syncing = asyncio.create_task(self._sync())

    async def _sync(self) -> None:
        try:
            await self.reload_connections()
            await self.presets.reload()
        except Exception:  # the database hiccuped: keep what we have, try again later
            log.exception("could not read connections and presets again")

    async def reload_connections(self) -> None:
        async with self.sessions() as session:
            rows = await crud.list_connections(session)
        await self.catalog.load([crud.config_of(row) for row in rows])

    async def resolve(self, model_id: str, user: Claims, provider: str | None = None) -> Resolved:
        """The connections that can answer for `model_id` (a preset's base model, for a
        preset); 404 when there are none."""
        self.sync_soon()
        preset = await self.presets.usable(model_id, user)
        targets = await self.catalog.targets(preset.base if preset else model_id)
        if provider is not None:
            targets = [t for t in targets if t.upstream.config.provider == provider]
        if not targets and preset is not None and preset.base != model_id:
            raise NotFoundError(f"Model {model_id!r} runs on {preset.base!r}, which no "
                                "connection serves now: choose another base model for it.")
        if not targets:
            raise NotFoundError(f"Model {model_id!r} is not served by any connection; "
                                "GET /api/v1/inference/models lists those that are.")
        return Resolved(targets, preset)


# Dependencies are async: FastAPI runs a sync one in a thread.
async def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
