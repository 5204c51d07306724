"""Open WebUI's OpenAI passthrough: `/openai/{path}` (GET, POST, PUT, DELETE) sent as it is to
the connection that serves the body's `model` (the first OpenAI connection when it names none),
and `/openai/responses` and `/openai/audio/speech`, which always name one.

Any provider path can be reached this way with the connection's key, so the catch-all is for
admins, and for users only when an admin turns `ENABLE_OPENAI_API_PASSTHROUGH` on (off by
default, as in Open WebUI). Registered last: every fixed `/openai/...` route wins over it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response

from owui.core.auth import CurrentUser
from owui.core.errors import error_response
from owui.core.tokens import Claims
from owui.inference import live
from owui.inference.calls import PassThrough
from owui.inference.catalog import Target
from owui.inference.providers.base import Provider, UpstreamRequest
from owui.inference.routes.bodies import parse_body
from owui.inference.runtime import Runtime, runtime_of

router = APIRouter(tags=["openai"])
_ANSWERS = {403: error_response("The passthrough is off for users."),
            404: error_response("No OpenAI connection serves the model."),
            422: error_response("The body is not a JSON object naming a model."),
            503: error_response("The OpenAI API is switched off.")}


async def _targets(runtime: Runtime, user: Claims, model: object) -> list[Target]:
    if not runtime.catalog.provider_on("openai"):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "The OpenAI API is disabled.")
    if isinstance(model, str) and model:
        return (await runtime.resolve(model, user, provider="openai")).targets
    upstreams = runtime.catalog.enabled("openai")
    if not upstreams:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No OpenAI connection is enabled.")
    return [Target(upstreams[0], "")]


async def _forward(request: Request, user: Claims, path: str, need_model: bool) -> Response:
    raw = await request.body()
    body: dict[str, Any] | None = parse_body(raw) if raw.strip() else None
    model = (body or {}).get("model")
    if need_model and not (isinstance(model, str) and model):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "model: a model is required.")
    runtime = await runtime_of(request)
    targets = await _targets(runtime, user, model)

    def build(_provider: Provider, upstream_model: str) -> UpstreamRequest:
        sent = raw
        if body is not None and upstream_model and upstream_model != model:
            sent = json.dumps({**body, "model": upstream_model}).encode()
        return UpstreamRequest(request.method, f"/{path}", sent or None)

    return PassThrough(targets, build, runtime.wait, request.url.query)


@router.post("/openai/responses", responses=_ANSWERS,
             summary="OpenAI's Responses API, to the connection serving the model")
async def responses(request: Request, user: CurrentUser) -> Response:
    return await _forward(request, user, "responses", need_model=True)


@router.post("/openai/audio/speech", responses=_ANSWERS,
             summary="Text to speech, to the connection serving the model")
async def speech(request: Request, user: CurrentUser) -> Response:
    return await _forward(request, user, "audio/speech", need_model=True)


async def proxy(path: str, request: Request, user: CurrentUser) -> Response:
    runtime = await runtime_of(request)
    live_config = runtime.catalog.live
    allowed = user.is_admin or bool(live_config and live_config.get(live.PASSTHROUGH))
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "The OpenAI passthrough is for admins (an admin may turn "
                            "ENABLE_OPENAI_API_PASSTHROUGH on for every user).")
    return await _forward(request, user, path, need_model=False)


for _method in ("GET", "POST", "PUT", "DELETE"):
    router.add_api_route("/openai/{path:path}", proxy, methods=[_method], responses=_ANSWERS,
                         summary="Proxy to an OpenAI connection",
                         operation_id=f"openai_proxy_{_method.lower()}")
