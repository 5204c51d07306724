"""OpenAI-compatible calls: `/api/v1/inference/*` and Open WebUI's `/openai/*`."""

from __future__ import annotations

from typing import Any

import aiohttp
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from owui.core.auth import CurrentUser
from owui.inference.calls import JsonCall, ProviderCall, StreamCall
from owui.inference.listing import model_list
from owui.inference.presets import apply_preset
from owui.inference.providers.base import Provider, UpstreamRequest
from owui.inference.schemas import ChatCompletionRequest, EmbeddingsRequest
from owui.inference.service import check, inference_of, json_body

router = APIRouter(tags=["inference"])
PREFIXES = ("/api/v1/inference", "/openai")


def _body_doc(form: type[Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": form.model_json_schema()}}}}


async def models(request: Request, user: CurrentUser, refresh: bool = False) -> JSONResponse:
    """Every connection's models merged, with the presets the caller may use."""
    return JSONResponse(await model_list(inference_of(request), user, refresh))


async def chat_completions(request: Request, user: CurrentUser) -> Response:
    body = await json_body(request)
    form = check(ChatCompletionRequest, body)
    inference = inference_of(request)
    resolved = await inference.resolve(form.model, user)
    preset = resolved.preset

    def build(provider: Provider, model: str) -> UpstreamRequest:
        sent = apply_preset(body, preset, provider.kind) if preset else body
        return provider.chat_request(sent, model)

    if form.stream:
        include_usage = bool((form.stream_options or {}).get("include_usage"))
        call: ProviderCall = StreamCall(resolved.targets, build, inference.wait, include_usage)
    else:
        async def read(provider: Provider, response: aiohttp.ClientResponse, model: str) -> bytes:
            return await provider.chat_json(response, form.model)

        call = JsonCall(resolved.targets, build, inference.wait, read)
    return call


async def embeddings(request: Request, user: CurrentUser) -> Response:
    body = await json_body(request)
    form = check(EmbeddingsRequest, body)
    inference = inference_of(request)
    resolved = await inference.resolve(form.model, user)
    encoding = form.encoding_format or "float"

    def build(provider: Provider, model: str) -> UpstreamRequest:
        return provider.embeddings_request(body, model)

    async def read(provider: Provider, response: aiohttp.ClientResponse, model: str) -> bytes:
        return await provider.embeddings_json(response, form.model, encoding)

    return JsonCall(resolved.targets, build, inference.wait, read)


for prefix in PREFIXES:
    router.add_api_route(f"{prefix}/models", models, methods=["GET"],
                         summary="List models", response_class=JSONResponse)
    router.add_api_route(f"{prefix}/chat/completions", chat_completions, methods=["POST"],
                         summary="Chat completion (OpenAI-compatible; SSE when stream is true)",
                         openapi_extra=_body_doc(ChatCompletionRequest))
    router.add_api_route(f"{prefix}/embeddings", embeddings, methods=["POST"],
                         summary="Embeddings (OpenAI-compatible)",
                         openapi_extra=_body_doc(EmbeddingsRequest))
