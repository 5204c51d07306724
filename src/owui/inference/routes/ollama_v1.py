"""Ollama's OpenAI-compatible API, as Open WebUI offers it: `/ollama/v1/*` (and `/{url_idx}`).

Chat completions and embeddings are answered by owui's own translation to Ollama's native API
(the same as `/api/v1/inference/*`, limited to the Ollama connections), so any Ollama version
serves them; Anthropic's Messages likewise (`routes/messages.py`). Completions and Responses
have no native counterpart and are passed to Ollama's own `/v1/completions` and
`/v1/responses` as they are, streams included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from owui.core.tokens import Claims
from owui.inference.calls import PassThrough
from owui.inference.catalog import exposed_id
from owui.inference.providers.base import Provider, UpstreamRequest, dumps
from owui.inference.routes import messages
from owui.inference.routes.bodies import check, json_body
from owui.inference.routes.calls import chat_call, embeddings_call
from owui.inference.routes.ollama import (
    PASSED_ON,
    Endpoint,
    add_routes,
    connections,
    model_of,
    ollama_targets,
)
from owui.inference.runtime import Resolved, Runtime, runtime_of
from owui.inference.schemas import ChatCompletionRequest, EmbeddingsRequest

router = APIRouter(tags=["ollama"])


def _translated(form_type: type[ChatCompletionRequest] | type[EmbeddingsRequest],
                make: Callable[[Runtime, Resolved, dict[str, Any], Any], Response]) -> Endpoint:
    """An OpenAI call checked by `form_type`, answered by owui's translation (`make`)."""
    async def endpoint(request: Request, user: Claims, url_idx: int | None) -> Response:
        body = await json_body(request)
        form = check(form_type, body)
        runtime = await runtime_of(request)
        return make(runtime, await ollama_targets(runtime, form.model, user, url_idx), body,
                    form)

    return endpoint


def _passed(path: str) -> Endpoint:
    async def endpoint(request: Request, user: Claims, url_idx: int | None) -> Response:
        body = await json_body(request)
        runtime = await runtime_of(request)
        resolved = await ollama_targets(runtime, model_of(body), user, url_idx)

        def build(_provider: Provider, upstream_model: str) -> UpstreamRequest:
            return UpstreamRequest("POST", path, dumps({**body, "model": upstream_model}))

        return PassThrough(resolved.targets, build, runtime.wait)

    return endpoint


async def models(request: Request, user: Claims, url_idx: int | None) -> Response:
    """The Ollama connections' models in OpenAI's list shape; one connection's for admins."""
    if url_idx is not None and not user.is_admin:
        raise HTTPException(403, "Only admins may list one connection's models.")
    runtime = await runtime_of(request)
    await runtime.catalog.refresh()
    upstreams = connections(runtime)
    if url_idx is not None:
        if url_idx >= len(upstreams):
            raise HTTPException(404, f"url_idx {url_idx}: there are {len(upstreams)} "
                                     "Ollama connections.")
        upstreams = [upstreams[url_idx]]
    now = int(time.time())
    seen: dict[str, dict[str, object]] = {}
    for upstream in upstreams:
        if upstream.config.enabled and upstream.status == "ok":
            for model in upstream.models:
                name = exposed_id(upstream, model.id)
                seen.setdefault(name, {"id": name, "object": "model", "created": now,
                                       "owned_by": "ollama"})
    return JSONResponse({"object": "list", "data": list(seen.values())})


async def anthropic_messages(request: Request, user: Claims, url_idx: int | None) -> Response:
    async def pick(runtime: Runtime, model: str, caller: Claims) -> Resolved:
        return await ollama_targets(runtime, model, caller, url_idx)

    return await messages.answer(request, user, pick)


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "OpenAI's answer: JSON, or SSE when streamed.",
          "content": {"application/json": {}, "text/event-stream": {}}},
    404: {"description": "No Ollama connection serves the model, or none at url_idx.",
          **messages.REFUSED},
    "default": {"description": "Refused (400, 413, 422), or the provider failed (502), is "
                               "unreachable or busy (503), or did not answer in time (504).",
                **messages.REFUSED}}
_add = partial(add_routes, methods=["POST"], prefixes=("/ollama",), to=router)
_add("/v1/chat/completions", _translated(ChatCompletionRequest, chat_call),
     summary="Chat completion with an Ollama model (OpenAI-compatible)",
     openapi_extra=messages.body_of(ChatCompletionRequest), responses=_ANSWERS)
_add("/v1/embeddings", _translated(EmbeddingsRequest, embeddings_call),
     summary="Embeddings with an Ollama model (OpenAI-compatible)",
     openapi_extra=messages.body_of(EmbeddingsRequest), responses=_ANSWERS)
_add("/v1/completions", _passed("/v1/completions"), summary="Ollama's /v1/completions, by model",
     responses=PASSED_ON, openapi_extra=messages.ANY_MODEL_BODY)
_add("/v1/responses", _passed("/v1/responses"), summary="Ollama's /v1/responses, by model",
     responses=PASSED_ON, openapi_extra=messages.ANY_MODEL_BODY)
_add("/v1/models", models, methods=["GET"],
     summary="The Ollama models in OpenAI's list shape")
_add("/v1/messages", anthropic_messages, summary="Anthropic Messages with an Ollama model",
     openapi_extra=messages.body_of(messages.MessagesRequest), responses=messages.ANSWERS)
