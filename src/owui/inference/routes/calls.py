"""OpenAI-compatible calls: `/api/v1/inference/*` and Open WebUI's `/openai/*`.

The two calls (chat completions, embeddings) are also served by `FastCalls`, a raw ASGI layer
inside the token check that answers them before FastAPI's routing: same code, same answers,
a fraction of the cost per request (bench/inference.py). The routes stay for the API document
and for any request that the fast layer does not take.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from owui.core.auth import CurrentUser
from owui.core.errors import not_found_response
from owui.core.tokens import Claims
from owui.inference.calls import JsonCall, ProviderCall, StreamCall
from owui.inference.errors import send_problem
from owui.inference.listing import model_list
from owui.inference.presets import apply_preset
from owui.inference.providers.base import Provider, UpstreamRequest
from owui.inference.schemas import ChatCompletionRequest, EmbeddingsRequest
from owui.inference.service import Inference, check, inference_of, json_body, parse_body

router = APIRouter(tags=["inference"])
PREFIXES = ("/api/v1/inference", "/openai")
Prepare = Callable[[Inference, dict[str, Any], Claims], Awaitable[ProviderCall]]


async def prepare_chat(inference: Inference, body: dict[str, Any],
                       user: Claims) -> ProviderCall:
    form = check(ChatCompletionRequest, body)
    resolved = await inference.resolve(form.model, user)
    preset = resolved.preset

    def build(provider: Provider, model: str) -> UpstreamRequest:
        sent = apply_preset(body, preset, provider.kind) if preset else body
        return provider.chat_request(sent, model)

    if form.stream:
        include_usage = bool((form.stream_options or {}).get("include_usage"))
        return StreamCall(resolved.targets, build, inference.wait, include_usage)

    async def read(provider: Provider, response: aiohttp.ClientResponse, _model: str) -> bytes:
        return await provider.chat_json(response, form.model)

    return JsonCall(resolved.targets, build, inference.wait, read)


async def prepare_embeddings(inference: Inference, body: dict[str, Any],
                             user: Claims) -> ProviderCall:
    form = check(EmbeddingsRequest, body)
    resolved = await inference.resolve(form.model, user)
    encoding = form.encoding_format or "float"

    def build(provider: Provider, model: str) -> UpstreamRequest:
        return provider.embeddings_request(body, model)

    async def read(provider: Provider, response: aiohttp.ClientResponse, _model: str) -> bytes:
        return await provider.embeddings_json(response, form.model, encoding)

    return JsonCall(resolved.targets, build, inference.wait, read)


def _body_doc(form: type[Any]) -> dict[str, Any]:
    schema = form.model_json_schema()
    # Nested models inlined: in an OpenAPI document `#/$defs/...` would point at its root.
    schema = _inline(schema, schema.pop("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


async def models(request: Request, user: CurrentUser, refresh: bool = False) -> JSONResponse:
    """Every connection's models merged, with the presets the caller may use."""
    return JSONResponse(await model_list(inference_of(request), user, refresh))


async def chat_completions(request: Request, user: CurrentUser) -> Response:
    return await prepare_chat(inference_of(request), await json_body(request), user)


async def embeddings(request: Request, user: CurrentUser) -> Response:
    return await prepare_embeddings(inference_of(request), await json_body(request), user)


_NO_MODEL = not_found_response("No connection serves the model.")

for prefix in PREFIXES:
    router.add_api_route(f"{prefix}/models", models, methods=["GET"],
                         summary="List models", response_class=JSONResponse)
    router.add_api_route(f"{prefix}/chat/completions", chat_completions, methods=["POST"],
                         summary="Chat completion (OpenAI-compatible; SSE when stream is true)",
                         openapi_extra=_body_doc(ChatCompletionRequest), responses=_NO_MODEL)
    router.add_api_route(f"{prefix}/embeddings", embeddings, methods=["POST"],
                         summary="Embeddings (OpenAI-compatible)",
                         openapi_extra=_body_doc(EmbeddingsRequest), responses=_NO_MODEL)

FAST: dict[str, Prepare] = {
    **{f"{prefix}/chat/completions": prepare_chat for prefix in PREFIXES},
    **{f"{prefix}/embeddings": prepare_embeddings for prefix in PREFIXES},
}


async def _read(receive: Receive, limit: int) -> bytes:
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPException(400, "The client went away before its request was read.")
        body += message.get("body", b"")
        if len(body) > limit:
            raise HTTPException(413, f"The request body is larger than {limit} bytes.")
        more = message.get("more_body", False)
    return bytes(body)


class FastCalls:
    """Raw ASGI, inside the token check: answers the calls in FAST without FastAPI's router."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prepare = FAST.get(scope["path"]) if scope["type"] == "http" else None
        if prepare is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        try:
            body = parse_body(await _read(receive, int(app.state.settings.max_json_size)))
            call = await prepare(app.state.inference, body, scope["state"]["user"])
        except HTTPException as exc:
            await send_problem(send, exc.status_code, exc.detail)
            return
        except RequestValidationError as exc:
            await send_problem(send, 422, [{k: e[k] for k in ("loc", "msg", "type") if k in e}
                                           for e in exc.errors()])
            return
        await call(scope, receive, send)


