"""ASGI app of the chat service: `uvicorn owui.chat.app:app`."""

from owui.core.service import create_service_app

app = create_service_app("chat")
