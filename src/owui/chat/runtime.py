"""What the chat service keeps while it runs (`Runtime`, built whole at start-up by app.py),
and the dependency routes use to reach it (`runtime_of`, `RuntimeDep`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from owui.chat.clients.agent import AgentClient
from owui.chat.rawdb import RawPool
from owui.chat.realtime.server import Realtime
from owui.chat.search import index_messages
from owui.chat.turns.running import Turns
from owui.chat.turns.stops import Stops
from owui.chat.turns.webapp import WebTurns
from owui.core.config import Settings
from owui.core.db import Database


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    raw: RawPool  # driver connections for the hot paths (rawdb.py)
    agent: AgentClient
    turns: Turns  # the turns this process runs
    webturns: WebTurns  # those of them the web app began (/api/tasks)
    stops: Stops  # a stop, wherever its turn runs (through Redis between replicas)
    realtime: Realtime  # socket.io (mounted at /ws/socket.io)

    @classmethod
    def build(cls, settings: Settings, db: Database) -> Runtime:
        raw = RawPool(db.engine, housekeeping=index_messages)
        agent = AgentClient(settings)
        turns = Turns(settings, raw, agent)
        webturns = WebTurns(turns)
        return cls(settings, raw, agent, turns, webturns, Stops(settings, turns, webturns),
                   Realtime(settings, raw, db.sessions, catch_up=webturns.catch_up))

    async def start(self) -> None:
        await self.raw.start()
        # Pending answers a dead process left become errors before anything is served.
        await self.turns.start()
        self.realtime.start()
        await self.stops.start()

    async def stop(self) -> None:
        await self.stops.stop()
        await self.realtime.stop()  # sockets still open closed cleanly
        await self.turns.stop()  # running answers stored as interrupted, before the writer goes
        await self.raw.stop()


# Dependencies are async: FastAPI runs a sync one in a thread.
async def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
