"""Ollama's own API passed through: `/ollama/*` (Open WebUI's) and `/api/v1/inference/ollama/*`.

Calls naming a model go to a connection serving it (balanced, failed over); `url_idx` picks
one Ollama connection by its position instead, as in Open WebUI. Managing models (pull, push,
create, copy, delete) is for admins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from owui.core.auth import AdminUser, CurrentUser
from owui.core.errors import ERROR_SCHEMA_NAME, not_found_response
from owui.inference.calls import PassThrough
from owui.inference.catalog import Target, exposed_id
from owui.inference.presets import PresetView, with_system
from owui.inference.providers.base import Provider, UpstreamRequest, dumps
from owui.inference.routes.bodies import json_body
from owui.inference.runtime import Runtime, runtime_of
from owui.inference.translate import options_from
from owui.inference.upstreams import Upstream

router = APIRouter(tags=["ollama"])
PREFIXES = ("/ollama", "/api/v1/inference/ollama")
UrlIdx = Query(default=None, ge=0, description="Position of the Ollama connection to use.")


def _connections(runtime: Runtime) -> list[Upstream]:
    return runtime.catalog.enabled("ollama")


def _at(runtime: Runtime, url_idx: int) -> Upstream:
    upstreams = _connections(runtime)
    if url_idx >= len(upstreams):
        raise HTTPException(404, f"url_idx {url_idx}: there are {len(upstreams)} enabled "
                                 "Ollama connections.")
    return upstreams[url_idx]


def _native_preset(body: dict[str, Any], preset: PresetView, path: str) -> dict[str, Any]:
    out = dict(body)
    options = options_from({k: v for k, v in preset.params.items() if k != "options"})
    if options:
        out["options"] = {**(body.get("options") or {}), **options}
    if preset.system and path == "/api/chat" and isinstance(body.get("messages"), list):
        out["messages"] = with_system(body["messages"], preset.system)
    elif preset.system and path == "/api/generate":
        out["system"] = preset.system + (f"\n{body['system']}" if body.get("system") else "")
    return out


async def _by_model(request: Request, user: CurrentUser, path: str,
                    url_idx: int | None) -> Response:
    body = await json_body(request)
    model = body.get("model") or body.get("name")
    if not isinstance(model, str) or not model:
        raise HTTPException(422, "model: a model name is required.")
    runtime = await runtime_of(request)
    if url_idx is not None:
        targets, preset = [Target(_at(runtime, url_idx), model)], None
    else:
        resolved = await runtime.resolve(model, user, provider="ollama")
        targets, preset = resolved.targets, resolved.preset
    sent = _native_preset(body, preset, path) if preset else body
    key = "model" if "model" in body else "name"

    def build(_provider: Provider, upstream_model: str) -> UpstreamRequest:
        return UpstreamRequest("POST", path, dumps({**sent, key: upstream_model}))

    return PassThrough(targets, build, runtime.wait)


async def _at_index(request: Request, method: str, path: str, url_idx: int | None) -> Response:
    runtime = await runtime_of(request)
    upstream = _at(runtime, url_idx or 0)
    body = await request.body() if method != "GET" else None
    request_spec = UpstreamRequest(method, path, body or None)
    return PassThrough([Target(upstream, "")], lambda _p, _m: request_spec, runtime.wait)


async def _gather_json(upstreams: list[Upstream], path: str, wait: float) -> list[Any]:
    """The JSON answer of every connection that gives one within `wait` seconds."""
    timeout = aiohttp.ClientTimeout(total=wait)

    async def one(upstream: Upstream) -> Any:
        async with upstream.open(UpstreamRequest("GET", path), timeout=timeout) as response:
            response.raise_for_status()
            return await response.json(content_type=None)

    results = await asyncio.gather(*(one(u) for u in upstreams), return_exceptions=True)
    return [r for r in results if not isinstance(r, BaseException)]


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("-")[0].split("."):
        parts.append(int(piece) if piece.isdigit() else 0)
    return tuple(parts)


async def tags(request: Request, user: CurrentUser, url_idx: int | None = UrlIdx) -> Response:
    """Every Ollama connection's models, merged; `urls` gives the positions serving each."""
    if url_idx is not None:
        return await _at_index(request, "GET", "/api/tags", url_idx)
    runtime = await runtime_of(request)
    await runtime.catalog.refresh()
    merged: dict[str, dict[str, Any]] = {}
    for position, upstream in enumerate(_connections(runtime)):
        if upstream.status != "ok":
            continue
        for model in upstream.models:
            name = exposed_id(upstream, model.id)
            entry = merged.setdefault(name, {**model.raw, "name": name, "model": name,
                                             "urls": []})
            entry["urls"].append(position)
    return JSONResponse({"models": list(merged.values())})


async def version(request: Request, user: CurrentUser,
                  url_idx: int | None = UrlIdx) -> Response:
    """The lowest version among the Ollama connections, as Open WebUI answers."""
    if url_idx is not None:
        return await _at_index(request, "GET", "/api/version", url_idx)
    runtime = await runtime_of(request)
    answers = await _gather_json(_connections(runtime), "/api/version", runtime.wait)
    versions = [str(a["version"]) for a in answers if isinstance(a, dict) and a.get("version")]
    if not versions:
        if request.url.path.startswith("/ollama/"):
            # Open WebUI's path, which its web app asks to learn whether Ollama is there: Open
            # WebUI answers {version: false} when it is off, and its app reads a failure so.
            return JSONResponse({"version": False})
        raise HTTPException(503, "No Ollama connection answered.")
    return JSONResponse({"version": min(versions, key=_version_key)})


async def ps(request: Request, user: CurrentUser) -> Response:
    """Models loaded in memory, across every Ollama connection."""
    runtime = await runtime_of(request)
    answers = await _gather_json(_connections(runtime), "/api/ps", runtime.wait)
    return JSONResponse({"models": [m for a in answers if isinstance(a, dict)
                                    for m in a.get("models") or []]})


def _routed(path: str) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, user: CurrentUser,
                       url_idx: int | None = UrlIdx) -> Response:
        return await _by_model(request, user, path, url_idx)

    return endpoint


def _admin(method: str, path: str) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, admin: AdminUser,
                       url_idx: int | None = UrlIdx) -> Response:
        return await _at_index(request, method, path, url_idx)

    return endpoint


# The bodies are Ollama's and go on as they are; documented as JSON objects, by model.
_BY_MODEL_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": True, "description": "Ollama's request; "
    "`model` (or `name`) picks the connection.", "properties": {
        "model": {"type": "string", "minLength": 1}, "name": {"type": "string"}}}}}}}
_ANY_BODY = {"requestBody": {"content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": True, "description": "Ollama's request."}}}}}

_NO_CONNECTION = not_found_response("No Ollama connection at url_idx.")
# Ollama's answers are passed on as they are: JSON or an NDJSON stream, and its own errors.
_OLLAMA_ERROR = {"content": {"application/json": {"schema": {"anyOf": [
    {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"},
    {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}]}}}}
_PASSED_ON: dict[int | str, dict[str, Any]] = {
    200: {"description": "Ollama's answer: JSON, or NDJSON when streamed.",
          "content": {"application/json": {}, "application/x-ndjson": {}}},
    400: {"description": "Malformed JSON body, or refused by Ollama.", **_OLLAMA_ERROR},
    404: {"description": "No connection serves the model (or none at url_idx), or Ollama "
                         "does not know it.", **_OLLAMA_ERROR},
    "default": {"description": "Ollama's other answers, passed on as they are."}}

for prefix in PREFIXES:
    router.add_api_route(f"{prefix}/api/tags", tags, methods=["GET"], summary="Ollama tags",
                         responses=_NO_CONNECTION)
    router.add_api_route(f"{prefix}/api/version", version, methods=["GET"],
                         summary="Ollama version", responses=_NO_CONNECTION)
    router.add_api_route(f"{prefix}/api/ps", ps, methods=["GET"], summary="Loaded models")
    for routed in ("chat", "generate", "embed", "embeddings", "show"):
        router.add_api_route(f"{prefix}/api/{routed}", _routed(f"/api/{routed}"),
                             methods=["POST"], summary=f"Ollama /api/{routed}, by model",
                             openapi_extra=_BY_MODEL_BODY, responses=_PASSED_ON)
    for method, managed in (("POST", "pull"), ("POST", "push"), ("POST", "create"),
                            ("POST", "copy"), ("DELETE", "delete")):
        router.add_api_route(f"{prefix}/api/{managed}", _admin(method, f"/api/{managed}"),
                             methods=[method], summary=f"Ollama /api/{managed} (admin)",
                             openapi_extra=_ANY_BODY, responses=_PASSED_ON)
