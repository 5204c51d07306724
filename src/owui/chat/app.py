"""ASGI app of the chat service: `uvicorn owui.chat.app:app`."""

from pathlib import Path

from owui.chat.models import ChatBase
from owui.chat.rawdb import start_pool, stop_pool
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
from owui.core.service import create_service_app

# Fixed paths (`/search`, `/all/tags`, `/share/{id}`, ...) before `/{id}`, which matches them too.
ROUTERS = [preferences.router, transfer.router, admin.router, lists.router, tags.router,
           shares.router, messages.router, chats.router, folders.router]

app = create_service_app(
    "chat",
    routers=ROUTERS,
    metadata=ChatBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[start_pool],
    on_shutdown=[stop_pool],
)
