"""ASGI app of the retrieval service: `uvicorn owui.retrieval.app:app`."""

from owui.core.service import create_service_app

app = create_service_app("retrieval")
