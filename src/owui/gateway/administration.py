"""What an admin changes while the gateway runs: live settings, groups and permissions."""

from __future__ import annotations

from dataclasses import dataclass

from owui.core.config import Settings
from owui.core.db import Database
from owui.core.live_config import LiveConfig
from owui.gateway.access_state import AccessState
from owui.gateway.live import make_live_config


@dataclass(frozen=True, eq=False)
class Administration:
    live: LiveConfig
    access: AccessState

    @classmethod
    def create(cls, settings: Settings, db: Database) -> Administration:
        live = make_live_config(settings, db)
        return cls(live, AccessState(db.sessions, live, settings.jwt_secret))

    async def start(self) -> None:
        await self.live.start()
        await self.access.start()

    async def stop(self) -> None:
        await self.access.stop()
        await self.live.stop()
