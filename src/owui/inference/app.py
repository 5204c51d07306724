"""ASGI app of the inference service: `uvicorn owui.inference.app:app`."""

from owui.core.service import create_service_app

app = create_service_app("inference")
