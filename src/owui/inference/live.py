"""The inference service's settings that an admin changes at run time (owui.core.live_config):
the provider switches (`ENABLE_OPENAI_API`, `ENABLE_OLLAMA_API`), whether users may call the
OpenAI passthrough (`ENABLE_OPENAI_API_PASSTHROUGH`), and two revision marks.

Connections and presets are rows of their own tables; a write there also changes its revision
mark (`announce`), and every replica's live config sees the new mark within about a second and
reads the table again, so an admin's change applies everywhere within seconds."""

from __future__ import annotations

import asyncio
import logging
import uuid

from owui.core.background import cancel_and_wait
from owui.core.db import Database
from owui.core.live_config import LiveConfig
from owui.inference import presets
from owui.inference.models import LIVE_CONFIG
from owui.inference.runtime import Runtime

log = logging.getLogger("owui.inference.live")
CONNECTIONS = "CONNECTIONS_REVISION"
PRESETS = "PRESETS_REVISION"
SWITCHES = {"openai": "ENABLE_OPENAI_API", "ollama": "ENABLE_OLLAMA_API"}
PASSTHROUGH = "ENABLE_OPENAI_API_PASSTHROUGH"


def _defaults() -> dict[str, object]:
    # The switches start on: ENABLE_OPENAI_API / ENABLE_OLLAMA_API in the environment decide
    # which connections the first start stores (crud.seed_connections), as they always have;
    # a connection an admin adds later works until an admin turns its provider off.
    return {SWITCHES["openai"]: True, SWITCHES["ollama"]: True,
            PASSTHROUGH: False, CONNECTIONS: "", PRESETS: ""}


class Reloader:
    """Reads connections or presets again, in the background, when another replica says so."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.tasks: set[asyncio.Task[None]] = set()

    def __call__(self, keys: set[str]) -> None:
        if keys & {CONNECTIONS, *SWITCHES.values()}:
            self._spawn(self._connections())
        if PRESETS in keys:
            self._spawn(self.runtime.presets.reload())

    def _spawn(self, work: object) -> None:
        task = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("could not read the changed settings again", exc_info=task.exception())

    async def _connections(self) -> None:
        await self.runtime.reload_connections()
        await self.runtime.catalog.refresh()

    async def stop(self) -> None:
        for task in list(self.tasks):
            await cancel_and_wait(task)


async def attach(runtime: Runtime, db: Database) -> None:
    """Start the live settings and let the catalog read its switches from them."""
    presets.use_secret(runtime.settings.jwt_secret)
    config = LiveConfig(db, LIVE_CONFIG, _defaults())
    reloader = Reloader(runtime)
    config.on_change(reloader)
    await config.start()
    runtime.catalog.live = config
    runtime.catalog.stoppers += [config.stop, reloader.stop]


async def detach(runtime: Runtime) -> None:
    for stop in runtime.catalog.stoppers:
        await stop()
    runtime.catalog.stoppers = []


async def announce(runtime: Runtime, key: str) -> None:
    """Tell every replica that the rows behind `key` changed."""
    if runtime.catalog.live is not None:
        await runtime.catalog.live.update({key: uuid.uuid4().hex})
