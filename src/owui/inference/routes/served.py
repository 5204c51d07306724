"""The calls served before FastAPI's router (`calls.CallRoutes`): how one is declared (`Call`),
served (`serve`: read, check, prepare, then the provider call answers for itself) and
documented in the service's OpenAPI document (`document`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

from owui.core.errors import DomainError, validation_detail
from owui.core.tokens import Claims
from owui.inference.calls import ProviderCall
from owui.inference.errors import PROBLEM_SCHEMA, PROBLEM_SCHEMA_NAME, send_problem
from owui.inference.routes.bodies import check, parse_body, read_body
from owui.inference.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Call:
    """One call served by `CallRoutes`: the form checks the body and is its document."""

    summary: str
    form: type[BaseModel]
    prepare: Callable[[Runtime, dict[str, Any], Any, Claims], Awaitable[ProviderCall]]
    answers: tuple[str, ...] = ("application/json",)


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


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}}}}


def _operation(path: str, call: Call) -> dict[str, Any]:
    return {
        "tags": ["inference"], "summary": call.summary,
        "operationId": path.strip("/").replace("/", "_") + "_post",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": form_schema(call.form)}}},
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


def form_schema(form: type[BaseModel]) -> dict[str, Any]:
    """A form's JSON schema for an OpenAPI document, nested models inlined: there,
    `#/$defs/...` would point at the document's root."""
    schema = form.model_json_schema()
    return _inline(schema, schema.pop("$defs", {}))


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def document(app: FastAPI, routes: dict[str, Call]) -> None:
    """Adds the operations of `routes` to the app's OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()
            doc.setdefault("components", {}).setdefault("schemas", {})[
                PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
            for path, call in routes.items():
                doc["paths"][path] = {"post": _operation(path, call)}
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
