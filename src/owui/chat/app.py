"""ASGI app of the chat service: `uvicorn owui.chat.app:app`."""

from pathlib import Path

from fastapi import FastAPI

from owui.chat.models import ChatBase
from owui.chat.realtime import server as realtime
from owui.chat.routes import (
    admin,
    channels,
    chat_actions,
    chats,
    completions,
    evaluations,
    folders,
    lists,
    memories,
    messages,
    notes,
    preferences,
    prompts,
    shared_folders,
    shares,
    skills,
    stats,
    tags,
    tasks,
    transfer,
    workspace_search,
)
from owui.chat.runtime import Runtime
from owui.core.service import create_service_app

# Fixed paths (`/search`, `/all/tags`, `/share/{id}`, ...) before `/{id}`, which matches them too.
ROUTERS = [preferences.router, transfer.router, admin.router, lists.router, tags.router,
           shares.router, completions.router, messages.router, chats.router, notes.router,
           shared_folders.router, folders.router, tasks.router]
ROUTERS += [prompts.router, memories.router]  # the workspace's (`/{id}` paths last in each)
ROUTERS += [chat_actions.router, evaluations.router, stats.router,  # no fixed path they
            workspace_search.router]  # swallow
ROUTERS += [skills.router, channels.router]  # the app's lists of features owui has not


async def start(app: FastAPI) -> None:
    runtime = Runtime.build(app.state.settings, app.state.db)
    await runtime.start()
    app.state.runtime = runtime  # once started: the socket.io mount answers 503 until then


async def stop(app: FastAPI) -> None:
    await app.state.runtime.stop()


app = create_service_app(
    "chat",
    routers=ROUTERS,
    metadata=ChatBase.metadata,
    migrations=Path(__file__).parent / "migrations",
    on_startup=[start],
    on_shutdown=[stop],
)
app.mount("/ws/socket.io", realtime.mount)  # socket.io for the web app (realtime/)
