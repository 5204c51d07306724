"""ASGI app of the chat service: `uvicorn owui.chat.app:app`."""

from pathlib import Path

from fastapi import FastAPI

from owui.chat.models import ChatBase
from owui.chat.rawdb import RawPool
from owui.chat.routes import (
    admin,
    chats,
    folders,
    lists,
    messages,
    preferences,
    shares,
    tags,
    transfer,
)
from owui.chat.search import index_messages
from owui.core.service import create_service_app

# Fixed paths (`/search`, `/all/tags`, `/share/{id}`, ...) before `/{id}`, which matches them too.
ROUTERS = [preferences.router, transfer.router, admin.router, lists.router, tags.router,
           shares.router, messages.router, chats.router, folders.router]


async def start(app: FastAPI) -> None:
    app.state.raw = RawPool(app.state.db.engine, housekeeping=index_messages)
    await app.state.raw.start()


async def stop(app: FastAPI) -> None:
    await app.state.raw.stop()


app = create_service_app(
    "chat",
    routers=ROUTERS,
    metadata=ChatBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[start],
    on_shutdown=[stop],
)
