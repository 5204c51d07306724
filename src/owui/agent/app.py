"""ASGI app of the agent service: `uvicorn owui.agent.app:app`."""

from owui.core.service import create_service_app

app = create_service_app("agent")
