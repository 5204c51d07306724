"""Anthropic's Messages API: `/api/v1/messages` (and Open WebUI's `/api/message`), with
`count_tokens`, answered by any connection (OpenAI-compatible or Ollama) through OpenAI's chat
protocol (`anthropic.py` translates), so that the `anthropic` SDK works against owui. Every
error is Anthropic's shape, which the SDK raises as its typed exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.types import Send

from owui.core.auth import CurrentUser
from owui.core.errors import DomainError, validation_detail
from owui.core.tokens import Claims
from owui.inference import anthropic
from owui.inference.anthropic import CountTokensRequest, MessagesRequest, Unsupported
from owui.inference.calls import SSE_HEADERS, Failure, JsonCall, ProviderCall
from owui.inference.catalog import Target
from owui.inference.presets import apply_preset
from owui.inference.providers.base import Provider, StreamBroken, UpstreamRequest, dumps
from owui.inference.routes.bodies import check, json_body
from owui.inference.routes.served import form_schema
from owui.inference.runtime import Resolved, Runtime, runtime_of

router = APIRouter(tags=["messages"])
Pick = Callable[[Runtime, str, Claims], Awaitable[Resolved]]
PATHS = ("/api/v1/messages", "/api/message")
OLLAMA_ONLY = frozenset({"top_k", "think"})


async def send_anthropic_problem(send: Send, status: int, detail: object) -> None:
    payload = dumps(anthropic.error_body(status, detail))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def _refusal(status: int, detail: object) -> JSONResponse:
    return JSONResponse(anthropic.error_body(status, detail), status)


class MessageStream(ProviderCall):
    """The provider's OpenAI stream as Messages' events; the first chunk is awaited before
    the client sees a byte, so that a provider failing at once is failed over."""

    def __init__(self, targets: list[Target], build: Callable[[Provider, str], UpstreamRequest],
                 wait: float, model: str, input_tokens: int) -> None:
        super().__init__(targets, build, wait)
        self.problem = send_anthropic_problem
        self.model = model
        self.input_tokens = input_tokens

    async def relay(self, response: aiohttp.ClientResponse, target: Target,
                    send: Send) -> Failure | None:
        chunks = target.upstream.provider.chat_stream(response, target.model, True)
        first = await anext(chunks, b"")
        self.watch.first_token()
        self.started = True
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        events = anthropic.EventStream(self.model, self.input_tokens)
        out = events.start() + events.feed(first)
        self.watch.chunk(first)
        try:
            await send({"type": "http.response.body", "body": out, "more_body": True})
            async for chunk in chunks:
                self.watch.chunk(chunk)
                out = events.feed(chunk)
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            tail = events.end()
        except StreamBroken as exc:
            tail = events.fail(f"The provider broke off its answer: {exc}")
        await send({"type": "http.response.body", "body": tail})
        return None


def messages_call(runtime: Runtime, resolved: Resolved, form: MessagesRequest) -> ProviderCall:
    body = anthropic.to_openai(form)
    preset = resolved.preset
    input_tokens = anthropic.count_tokens(form)

    def build(provider: Provider, model: str) -> UpstreamRequest:
        sent = apply_preset(body, preset, provider.kind) if preset else body
        if provider.kind != "ollama":  # Ollama's own, which OpenAI's API refuses
            sent = {key: value for key, value in sent.items() if key not in OLLAMA_ONLY}
        return provider.chat_request(sent, model)

    if form.stream:
        return MessageStream(resolved.targets, build, runtime.wait, form.model, input_tokens)

    async def read(provider: Provider, response: aiohttp.ClientResponse, _model: str) -> bytes:
        completion = json.loads(await provider.chat_json(response, form.model))
        return dumps(anthropic.to_message(completion, form.model, input_tokens))

    call = JsonCall(resolved.targets, build, runtime.wait, read)
    call.problem = send_anthropic_problem
    return call


async def _resolve_any(runtime: Runtime, model: str, user: Claims) -> Resolved:
    return await runtime.resolve(model, user)


async def _checked(request: Request, form_type: type[CountTokensRequest], user: Claims,
                   pick: Pick) -> tuple[Runtime, Resolved, Any]:
    body = await json_body(request)
    form = check(form_type, body)
    runtime = await runtime_of(request)
    return runtime, await pick(runtime, form.model, user), form


async def _guarded(work: Callable[[], Awaitable[Response]]) -> Response:
    """Anthropic's error shape for every refusal before the provider is called."""
    try:
        return await work()
    except RequestValidationError as exc:
        return _refusal(400, validation_detail(exc.errors()))
    except Unsupported as exc:
        return _refusal(400, str(exc))
    except RecursionError:  # valid JSON (orjson reads 1,024 levels) Python cannot write
        return _refusal(400, "The request is nested too deeply to pass on.")
    except DomainError as exc:
        return _refusal(exc.status, exc.detail)
    except HTTPException as exc:
        return _refusal(exc.status_code, exc.detail)


async def answer(request: Request, user: Claims, pick: Pick = _resolve_any) -> Response:
    """A Messages request answered by the connections `pick` gives for its model."""
    async def work() -> Response:
        runtime, resolved, form = await _checked(request, MessagesRequest, user, pick)
        return messages_call(runtime, resolved, form)

    return await _guarded(work)


async def generate(request: Request, user: CurrentUser) -> Response:
    """Anthropic's Messages API (JSON, or its SSE events when `stream` is true)."""
    return await answer(request, user)


async def count(request: Request, user: CurrentUser) -> Response:
    """An estimate of the request's input tokens (about 4 characters a token); 404 for a
    model no connection serves, as a generation would answer."""
    async def work() -> Response:
        _runtime, _resolved, form = await _checked(request, CountTokensRequest, user,
                                                   _resolve_any)
        return JSONResponse({"input_tokens": anthropic.count_tokens(form)})

    return await _guarded(work)


def body_of(form: type[BaseModel]) -> dict[str, Any]:
    """openapi_extra documenting a body read by hand as `form`."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": form_schema(form)}}}}


ANY_MODEL_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "additionalProperties": True, "required": ["model"],
               "properties": {"model": {"type": "string", "minLength": 1}}}}}}}
# Anthropic's error, with owui's `detail` beside; a body that is not JSON at all is refused
# before the route by the service's edge check (core.jsonbody), with `detail` alone.
_ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["detail"], "properties": {
        "type": {"const": "error"}, "detail": {},
        "error": {"type": "object", "required": ["type", "message"], "properties": {
            "type": {"type": "string"}, "message": {"type": "string"}}}}}}}}
REFUSED = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["detail"], "properties": {"detail": {}}}}}}
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Anthropic's message, or its SSE events when streamed.",
          "content": {"application/json": {}, "text/event-stream": {}}},
    400: {"description": "A body that does not fit, or a request the provider refuses.",
          **_ERROR},
    404: {"description": "No connection serves the model.", **_ERROR},
    "default": {"description": "The provider failed (502), is unreachable or busy (503), "
                               "or did not answer in time (504).", **_ERROR}}
_COUNTED = {200: {"description": "The estimated input tokens.", "content": {
    "application/json": {"schema": {"type": "object", "required": ["input_tokens"],
                                    "properties": {"input_tokens": {"type": "integer"}}}}}},
    400: ANSWERS[400], 404: ANSWERS[404]}

for _path in PATHS:
    router.add_api_route(_path, generate, methods=["POST"], summary="Generate Messages",
                         openapi_extra=body_of(MessagesRequest), responses=ANSWERS)
    router.add_api_route(f"{_path}/count_tokens", count, methods=["POST"],
                         summary="Count Message Tokens",
                         openapi_extra=body_of(CountTokensRequest), responses=_COUNTED)
