"""The five real services with fake providers, the operations with a JSON body taken from their
own OpenAPI documents at run time (so that routes added later are covered too), and a sender
that fires many malformed requests at once and keeps every answer."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import bearer, signup
from tests.malformed.payloads import Body
from tests.support.fullstack import BACKENDS, FullStack, full_stack

# Small enough that a body past it is cheap to send to every operation.
MAX_JSON_SIZE = 1024 * 1024
STACK_ENV = {"MAX_JSON_SIZE": str(MAX_JSON_SIZE), "DEFAULT_USER_ROLE": "user",
             "CODE_EXECUTION_TIMEOUT": "5", "AGENT_TOOL_TIMEOUT": "5"}
# Left out: it revokes the token that every later request is sent with.
EXCLUDED = {("POST", "/api/v1/auths/signout")}
CONCURRENCY = 8
METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    target: str  # "gateway", or the service called directly
    base: str
    method: str
    template: str
    path: str  # path parameters filled
    schema: dict[str, Any]
    components: dict[str, Any]
    required: bool
    is_object: bool

    @property
    def label(self) -> str:
        return f"{self.target} {self.method} {self.template}"


@dataclass
class Answer:
    operation: Operation
    payload: str
    status: int | str  # a status, or the transport error's name
    text: str
    request_id: str = ""  # finds a 5xx's traceback in the service's log


@dataclass
class MalformedStack:
    stack: FullStack
    headers: dict[str, str]
    operations: dict[str, list[Operation]]  # by target: "gateway", "direct"


def _fill(path: str, parameters: Iterable[dict[str, Any]]) -> str:
    """Plausible ids: a body is read before any id is looked up, but a real-looking id keeps a
    route from stopping early at its path converter."""
    kinds = {p["name"]: p.get("schema", {}).get("type") for p in parameters
             if p.get("in") == "path"}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if kinds.get(name) == "integer":
            return "1"
        if name == "path":  # a catch-all passed to a provider (Ollama's API)
            return "api/chat"
        return str(uuid.uuid4())

    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", value, path)


def _is_object(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    while "$ref" in schema:
        schema = components.get("schemas", {}).get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema.get("type") == "object" or "properties" in schema


def json_operations(document: dict[str, Any], target: str, base: str) -> list[Operation]:
    components = document.get("components", {})
    found = []
    for template, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS or (method.upper(), template) in EXCLUDED:
                continue
            body = operation.get("requestBody") or {}
            media = body.get("content", {}).get("application/json")
            if media is None:
                continue
            schema = media.get("schema", {})
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            found.append(Operation(target, base, method.upper(), template,
                                   _fill(template, parameters), schema, components,
                                   bool(body.get("required")), _is_object(schema, components)))
    return found


@pytest.fixture(scope="package")
def malformed(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str
              ) -> Iterator[MalformedStack]:
    data_dir = tmp_path_factory.mktemp("malformed-data")
    log_dir = tmp_path_factory.mktemp("malformed-logs")
    with full_stack(jwt_secret, data_dir, log_dir, **STACK_ENV) as stack:
        # The first account is the admin: admin-only routes read their bodies too.
        admin = signup(stack.gateway, name="Admin", email="admin@malformed.test")
        headers = bearer(admin["token"])
        merged = httpx.get(f"{stack.gateway}/openapi.json", timeout=60).json()
        direct = []
        for name in BACKENDS:
            document = httpx.get(f"{stack.url(name)}/openapi.json", timeout=60).json()
            direct += json_operations(document, name, stack.url(name))
        operations = {"gateway": json_operations(merged, "gateway", stack.gateway),
                      "direct": direct}
        assert len(operations["gateway"]) > 50 and len(direct) > 50, \
            {k: len(v) for k, v in operations.items()}
        yield MalformedStack(stack, headers, operations)


async def _send_all(requests: list[tuple[Operation, str, Body]], headers: dict[str, str],
                    seconds: float) -> list[Answer]:
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=seconds) as client:
        async def one(operation: Operation, payload: str, body: Body) -> Answer:
            sent = dict(headers)
            if body.content_type is not None:
                sent["Content-Type"] = body.content_type
            async with limit:
                try:
                    response = await client.request(
                        operation.method, operation.base + operation.path, content=body.content,
                        headers=sent)
                except httpx.HTTPError as exc:
                    return Answer(operation, payload, type(exc).__name__, str(exc))
            return Answer(operation, payload, response.status_code, response.text,
                          response.headers.get("x-request-id", ""))

        return list(await asyncio.gather(*(one(*r) for r in requests)))


def send_all(requests: list[tuple[Operation, str, Body]], headers: dict[str, str],
             timeout: float = 60) -> list[Answer]:
    return asyncio.run(_send_all(requests, headers, timeout))
