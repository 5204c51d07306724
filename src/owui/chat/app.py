"""ASGI app of the chat service: `uvicorn owui.chat.app:app`."""

from pathlib import Path

from fastapi import FastAPI

from owui.chat.agent_client import create_session
from owui.chat.models import ChatBase
from owui.chat.rawdb import RawPool
from owui.chat.routes import (
    admin,
    chats,
    completions,
    folders,
    lists,
    messages,
    preferences,
    shares,
    tags,
    transfer,
)
from owui.chat.search import index_messages
from owui.chat.turns.running import Turns
from owui.core.service import create_service_app

# Fixed paths (`/search`, `/all/tags`, `/share/{id}`, ...) before `/{id}`, which matches them too.
ROUTERS = [preferences.router, transfer.router, admin.router, lists.router, tags.router,
           shares.router, completions.router, messages.router, chats.router, folders.router]


async def start(app: FastAPI) -> None:
    app.state.raw = RawPool(app.state.db.engine, housekeeping=index_messages)
    await app.state.raw.start()
    # Chat turns: pending answers a dead process left become errors before anything is served.
    app.state.turns = Turns(app.state.settings, app.state.raw,
                            create_session(app.state.settings), app.state.http)
    await app.state.turns.start()


async def stop(app: FastAPI) -> None:
    await app.state.turns.stop()  # running answers stored as interrupted, before the writer goes
    await app.state.turns.http.close()
    await app.state.raw.stop()


app = create_service_app(
    "chat",
    routers=ROUTERS,
    metadata=ChatBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[start],
    on_shutdown=[stop],
)
