"""A stand-in OpenAI-compatible provider that lists one model and answers any other path with
what it was sent (method, path, query, bearer, body): what `/openai/{path}` passed on.

  FAKE_MODELS   ;-separated model ids it lists (default: echo-model)
  FAKE_API_KEY  the bearer it expects; any other answers 401
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MODELS = os.environ.get("FAKE_MODELS", "echo-model").split(";")
API_KEY = os.environ.get("FAKE_API_KEY")


async def models(_request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "echo"}
        for m in MODELS]})


async def echo(request: Request) -> Response:
    bearer = request.headers.get("authorization")
    if API_KEY and bearer != f"Bearer {API_KEY}":
        return JSONResponse({"error": {"message": "Incorrect API key provided."}}, 401)
    return JSONResponse({"method": request.method, "path": request.url.path,
                         "query": request.url.query, "authorization": bearer,
                         "body": (await request.body()).decode()})


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[
    Route("/healthz", healthz), Route("/v1/models", models),
    Route("/{path:path}", echo, methods=["GET", "POST", "PUT", "DELETE"]),
])
