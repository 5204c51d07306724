"""OpenAI-compatible calls: `/api/v1/inference/*` and Open WebUI's `/openai/*`.

Chat completions and embeddings are the hot path (every turn of every chat): `CallRoutes`, raw
ASGI inside the token check, answers them before FastAPI's router, which would cost them as
much again as the rest of the stack does (bench/inference.py; ARCHITECTURE.md has the figures).
They are declared once, in `CALLS`: path, summary, and the pydantic form that both checks the
body and documents it (`document_calls` writes them into the service's OpenAPI document). The
body goes on to the provider as it came: the form only checks it.

Their errors answer in both shapes the clients read (`errors.problem`): owui's `{"detail"}`
and OpenAI's `{"error"}`, which the openai SDK puts in its exceptions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from owui.core import metrics
from owui.core.asgi import send_error
from owui.core.auth import CurrentUser
from owui.core.errors import DomainError, validation_detail
from owui.core.tokens import Claims
from owui.inference.calls import JsonCall, ProviderCall, StreamCall
from owui.inference.errors import PROBLEM_SCHEMA, PROBLEM_SCHEMA_NAME, send_problem
from owui.inference.listing import model_list
from owui.inference.presets import apply_preset
from owui.inference.providers.base import Provider, UpstreamRequest
from owui.inference.routes.bodies import check, parse_body, read_body
from owui.inference.runtime import Runtime, RuntimeDep
from owui.inference.schemas import ChatCompletionRequest, EmbeddingsRequest

router = APIRouter(tags=["inference"])
PREFIXES = ("/api/v1/inference", "/openai")


async def prepare_chat(runtime: Runtime, body: dict[str, Any], form: ChatCompletionRequest,
                       user: Claims) -> ProviderCall:
    resolved = await runtime.resolve(form.model, user)
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
    resolved = await runtime.resolve(form.model, user)
    encoding = form.encoding_format or "float"

    def build(provider: Provider, model: str) -> UpstreamRequest:
        return provider.embeddings_request(body, model)

    async def read(provider: Provider, response: aiohttp.ClientResponse, _model: str) -> bytes:
        return await provider.embeddings_json(response, form.model, encoding)

    return JsonCall(resolved.targets, build, runtime.wait, read)


@dataclass(frozen=True, slots=True)
class Call:
    """One call served by `CallRoutes`: the form checks the body and is its document."""

    summary: str
    form: type[BaseModel]
    prepare: Callable[[Runtime, dict[str, Any], Any, Claims], Awaitable[ProviderCall]]
    answers: tuple[str, ...] = ("application/json",)


CALLS = {
    "chat/completions": Call("Chat completion (OpenAI-compatible; SSE when stream is true)",
                             ChatCompletionRequest, prepare_chat,
                             ("application/json", "text/event-stream")),
    "embeddings": Call("Embeddings (OpenAI-compatible)", EmbeddingsRequest, prepare_embeddings),
}
ROUTES = {f"{prefix}/{name}": call for prefix in PREFIXES for name, call in CALLS.items()}


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


async def serve(call: Call, scope: Scope, receive: Receive, send: Send) -> None:
    """Read and check the body, pick the connections, then the provider call answers for
    itself. The errors of the steps before it are mapped here, once."""
    state = scope["app"].state
    try:
        body = parse_body(await read_body(receive, int(state.settings.max_json_size)))
        form = check(call.form, body)
        # The token check put the caller's claims in the scope; the runtime is the one
        # runtime_of gives the routes.
        answer = await call.prepare(state.runtime, body, form, scope["state"]["user"])
    except DomainError as exc:
        await send_problem(send, exc.status, exc.detail)
        return
    except RequestValidationError as exc:
        await send_problem(send, 422, validation_detail(exc.errors()))
        return
    await answer(scope, receive, send)


# The document of CALLS


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}}}}


def _operation(path: str, call: Call) -> dict[str, Any]:
    schema = call.form.model_json_schema()
    # Nested models inlined: in an OpenAPI document `#/$defs/...` would point at its root.
    schema = _inline(schema, schema.pop("$defs", {}))
    return {
        "tags": ["inference"], "summary": call.summary,
        "operationId": path.strip("/").replace("/", "_") + "_post",
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {
            "200": {"description": "The provider's answer, translated to OpenAI's.",
                    "content": {kind: {"schema": {}} for kind in call.answers}},
            "400": _problem("Malformed JSON body, or a request the provider cannot take."),
            "404": _problem("No connection serves the model."),
            "413": _problem("The request body is too large."),
            "422": _problem("The body does not fit the form (each bad field named)."),
            "429": _problem("The provider is rate limiting."),
            "502": _problem("The provider failed or refused its credentials."),
            "503": _problem("Every connection serving the model is unreachable or busy."),
            "504": _problem("The provider did not answer in time."),
        },
    }


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def document_calls(app: FastAPI) -> None:
    """Adds the operations of CALLS to the app's OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()
            doc.setdefault("components", {}).setdefault("schemas", {})[
                PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
            for path, call in ROUTES.items():
                doc["paths"][path] = {"post": _operation(path, call)}
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


async def models(runtime: RuntimeDep, user: CurrentUser, refresh: bool = False) -> JSONResponse:
    """Every connection's models merged, with the presets the caller may use."""
    return JSONResponse(await model_list(runtime, user, refresh))


for prefix in PREFIXES:
    router.add_api_route(f"{prefix}/models", models, methods=["GET"],
                         summary="List models", response_class=JSONResponse)
