"""OpenAI-compatible calls: `/api/v1/inference/*`, Open WebUI's `/openai/*` and its
integration paths (`/api/v1/chat/completions`, `/api/v1/embeddings`, `/api/embeddings`).

Chat completions and embeddings are the hot path (every turn of every chat): `CallRoutes`, raw
ASGI inside the token check, answers them before FastAPI's router, which would cost them as
much again as the rest of the stack does (bench/inference.py; ARCHITECTURE.md has the figures).
They are declared once, in `CALLS`: path, summary, and the pydantic form that both checks the
body and documents it (`served.py` serves and documents them). The body goes on to the
provider as it came: the form only checks it.

Their errors answer in both shapes the clients read (`errors.problem`): owui's `{"detail"}`
and OpenAI's `{"error"}`, which the openai SDK puts in its exceptions.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from owui.core import metrics
from owui.core.asgi import send_error
from owui.core.auth import CurrentUser, UserToken
from owui.core.tokens import Claims
from owui.inference.calls import JsonCall, ProviderCall, StreamCall
from owui.inference.listing import model_list
from owui.inference.presets import apply_preset
from owui.inference.providers.base import Provider, UpstreamRequest
from owui.inference.routes.served import Call, document, serve
from owui.inference.runtime import Resolved, Runtime, RuntimeDep
from owui.inference.schemas import ChatCompletionRequest, EmbeddingsRequest

router = APIRouter(tags=["inference"])
PREFIXES = ("/api/v1/inference", "/openai")


async def prepare_chat(runtime: Runtime, body: dict[str, Any], form: ChatCompletionRequest,
                       user: Claims) -> ProviderCall:
    return chat_call(runtime, await runtime.resolve(form.model, user), body, form)


def chat_call(runtime: Runtime, resolved: Resolved, body: dict[str, Any],
              form: ChatCompletionRequest) -> ProviderCall:
    """The call answering an OpenAI chat body with the connections of `resolved`."""
    preset = resolved.preset

    def build(provider: Provider, model: str) -> UpstreamRequest:
        sent = apply_preset(body, preset, provider.kind) if preset else body
        return provider.chat_request(sent, model)

    if form.stream:
        include_usage = bool((form.stream_options or {}).get("include_usage"))
        return StreamCall(resolved.targets, build, runtime.wait, include_usage)

    async def read(provider: Provider, response: aiohttp.ClientResponse, _model: str) -> bytes:
        return await provider.chat_json(response, form.model)

    return JsonCall(resolved.targets, build, runtime.wait, read)


async def prepare_embeddings(runtime: Runtime, body: dict[str, Any], form: EmbeddingsRequest,
                             user: Claims) -> ProviderCall:
    return embeddings_call(runtime, await runtime.resolve(form.model, user), body, form)


def embeddings_call(runtime: Runtime, resolved: Resolved, body: dict[str, Any],
                    form: EmbeddingsRequest) -> ProviderCall:
    encoding = form.encoding_format or "float"

    def build(provider: Provider, model: str) -> UpstreamRequest:
        return provider.embeddings_request(body, model)

    async def read(provider: Provider, response: aiohttp.ClientResponse, _model: str) -> bytes:
        return await provider.embeddings_json(response, form.model, encoding)

    return JsonCall(resolved.targets, build, runtime.wait, read)


CALLS = {
    "chat/completions": Call("Chat completion (OpenAI-compatible; SSE when stream is true)",
                             ChatCompletionRequest, prepare_chat,
                             ("application/json", "text/event-stream")),
    "embeddings": Call("Embeddings (OpenAI-compatible)", EmbeddingsRequest, prepare_embeddings),
}
# Open WebUI's integration paths: the same calls, for clients pointed at `/api/v1` or `/api`
# (its `/api/v1/chat/completions` runs its chat pipeline without a chat: here, the model).
INTEGRATIONS = {"/api/v1/chat/completions": CALLS["chat/completions"],
                "/api/v1/embeddings": CALLS["embeddings"], "/api/embeddings": CALLS["embeddings"]}
ROUTES = {**{f"{prefix}/{name}": call for prefix in PREFIXES for name, call in CALLS.items()},
          **INTEGRATIONS}


class CallRoutes:
    """Raw ASGI, inside the token check: serves the paths of ROUTES (POST; 405 otherwise) and
    passes everything else on to FastAPI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call = ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if call is None:
            await self.app(scope, receive, send)
        elif scope["method"] != "POST":
            await send_error(send, 405, "Method Not Allowed", [(b"allow", b"POST")])
        else:
            scope[metrics.ROUTE_KEY] = scope["path"]  # a fixed path: its own template
            await serve(call, scope, receive, send)


def document_calls(app: FastAPI) -> None:
    """Adds the operations of ROUTES to the app's OpenAPI document."""
    document(app, ROUTES)


async def models(runtime: RuntimeDep, user: CurrentUser, token: UserToken,
                 refresh: bool = False) -> JSONResponse:
    """Every connection's models merged, with the presets the caller may use."""
    return JSONResponse(await model_list(runtime, user, token, refresh))


for prefix in PREFIXES:
    router.add_api_route(f"{prefix}/models", models, methods=["GET"],
                         summary="List models", response_class=JSONResponse)
