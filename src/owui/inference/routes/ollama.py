"""Ollama's own API passed through: `/ollama/*` (Open WebUI's) and `/api/v1/inference/ollama/*`.

Calls naming a model go to a connection serving it (balanced, failed over); `url_idx` (the
last path segment, as Open WebUI has it, or a query parameter) picks one Ollama connection by
its position among the Ollama connections instead (the `urlIdx` of the model list). Managing
models (pull, push, create, copy, delete, unload) is for admins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from owui.core.auth import CurrentUser, require_admin
from owui.core.errors import ERROR_SCHEMA_NAME, NotFoundError, not_found_response
from owui.core.tokens import Claims
from owui.inference.calls import PassThrough
from owui.inference.catalog import Target, exposed_id
from owui.inference.presets import PresetView, with_system
from owui.inference.providers.base import Provider, UpstreamRequest, dumps
from owui.inference.routes.bodies import json_body
from owui.inference.runtime import Resolved, Runtime, runtime_of
from owui.inference.translate import options_from
from owui.inference.upstreams import Upstream

router = APIRouter(tags=["ollama"])
PREFIXES = ("/ollama", "/api/v1/inference/ollama")
UrlIdx = Query(default=None, ge=0, description="Position of the Ollama connection to use.")
UrlIdxPath = PathParam(ge=0, description="Position of the Ollama connection to use.")
Endpoint = Callable[[Request, Claims, int | None], Awaitable[Response]]
ADMIN = [Depends(require_admin)]


def connections(runtime: Runtime) -> list[Upstream]:
    """Every Ollama connection, enabled or not, in order: positions are Open WebUI's urlIdx."""
    return [u for u in runtime.catalog.upstreams.values() if u.config.provider == "ollama"]


def at(runtime: Runtime, url_idx: int) -> Upstream:
    upstreams = connections(runtime)
    if url_idx >= len(upstreams):
        raise HTTPException(404, f"url_idx {url_idx}: there are {len(upstreams)} "
                                 "Ollama connections.")
    if not upstreams[url_idx].config.enabled:
        raise HTTPException(404, f"url_idx {url_idx}: that Ollama connection is disabled.")
    return upstreams[url_idx]


def chosen(runtime: Runtime, url_idx: int | None) -> Upstream:
    """The connection at url_idx; without one, the first enabled Ollama connection that is
    not known down (Open WebUI takes position 0, even when that host is gone)."""
    if url_idx is not None:
        return at(runtime, url_idx)
    enabled = runtime.catalog.enabled("ollama")
    if not enabled:
        raise HTTPException(404, "There is no enabled Ollama connection.")
    return next((u for u in enabled if u.status != "down"), enabled[0])


def _upstream_name(upstream: Upstream, model: str) -> str:
    prefix = upstream.config.prefix_id
    return model.removeprefix(f"{prefix}.") if prefix else model


async def ollama_targets(runtime: Runtime, model: str, user: Claims,
                         url_idx: int | None) -> Resolved:
    """The Ollama connections for `model`: the one at `url_idx`, else those serving it. A
    preset's id is its base model's there too, and another user's private preset is not found
    (its id is not passed on as if it were a model of the connection)."""
    if url_idx is not None:
        upstream = at(runtime, url_idx)
        preset = await runtime.presets.usable(model, user)
        if preset is None and model in await runtime.presets.current():
            raise NotFoundError(f"Model {model!r} not found.")
        name = preset.base if preset else model
        return Resolved([Target(upstream, _upstream_name(upstream, name))], preset)
    return await runtime.resolve(model, user, provider="ollama")


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


def model_of(body: dict[str, Any]) -> str:
    model = body.get("model") or body.get("name")
    if not isinstance(model, str) or not model:
        raise HTTPException(422, "model: a model name is required.")
    return model


async def by_model(request: Request, user: Claims, path: str, url_idx: int | None) -> Response:
    """Ollama's request, to a connection serving its model, with the model's name there."""
    body = await json_body(request)
    runtime = await runtime_of(request)
    resolved = await ollama_targets(runtime, model_of(body), user, url_idx)
    sent = _native_preset(body, resolved.preset, path) if resolved.preset else body
    key = "model" if "model" in body else "name"

    def build(_provider: Provider, upstream_model: str) -> UpstreamRequest:
        return UpstreamRequest("POST", path, dumps({**sent, key: upstream_model}))

    return PassThrough(resolved.targets, build, runtime.wait)


async def _at_index(request: Request, method: str, path: str, url_idx: int | None) -> Response:
    runtime = await runtime_of(request)
    upstream = chosen(runtime, url_idx)
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


async def tags(request: Request, user: Claims, url_idx: int | None) -> Response:
    """Every Ollama connection's models, merged; `urls` gives the positions serving each."""
    if url_idx is not None:
        return await _at_index(request, "GET", "/api/tags", url_idx)
    runtime = await runtime_of(request)
    await runtime.catalog.refresh()
    merged: dict[str, dict[str, Any]] = {}
    for position, upstream in enumerate(connections(runtime)):
        if upstream.status != "ok" or not upstream.config.enabled:
            continue
        for model in upstream.models:
            name = exposed_id(upstream, model.id)
            entry = merged.setdefault(name, {**model.raw, "name": name, "model": name,
                                             "urls": []})
            entry["urls"].append(position)
    return JSONResponse({"models": list(merged.values())})


async def version(request: Request, user: Claims, url_idx: int | None) -> Response:
    """The lowest version among the Ollama connections, as Open WebUI answers."""
    if url_idx is not None:
        return await _at_index(request, "GET", "/api/version", url_idx)
    runtime = await runtime_of(request)
    answers = await _gather_json(runtime.catalog.enabled("ollama"), "/api/version",
                                 runtime.wait)
    versions = [str(a["version"]) for a in answers if isinstance(a, dict) and a.get("version")]
    if not versions:
        if request.url.path.startswith("/ollama/"):
            # Open WebUI's path, which its web app asks to learn whether Ollama is there: Open
            # WebUI answers {version: false} when it is off, and its app reads a failure so.
            return JSONResponse({"version": False})
        raise HTTPException(503, "No Ollama connection answered.")
    return JSONResponse({"version": min(versions, key=_version_key)})


async def ps(request: Request, user: Claims, url_idx: int | None) -> Response:
    """Models loaded in memory, across every Ollama connection (or the one at url_idx)."""
    if url_idx is not None:
        return await _at_index(request, "GET", "/api/ps", url_idx)
    runtime = await runtime_of(request)
    answers = await _gather_json(runtime.catalog.enabled("ollama"), "/api/ps", runtime.wait)
    return JSONResponse({"models": [m for a in answers if isinstance(a, dict)
                                    for m in a.get("models") or []]})


async def unload(request: Request, user: Claims, url_idx: int | None) -> Response:
    """Unload a model from memory on every connection serving it (Ollama: keep_alive 0)."""
    runtime = await runtime_of(request)
    resolved = await ollama_targets(runtime, model_of(await json_body(request)), user, url_idx)
    failed: list[str] = []
    timeout = aiohttp.ClientTimeout(total=runtime.wait + 10)
    for target in resolved.targets:
        payload = dumps({"model": target.model, "keep_alive": 0, "prompt": "", "stream": False})
        try:
            async with target.upstream.open(UpstreamRequest("POST", "/api/generate", payload),
                                            timeout=timeout) as response:
                response.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            failed.append(f"{target.upstream.label}: {type(exc).__name__}")
    if failed:
        raise HTTPException(502, "Could not unload the model on: " + "; ".join(failed))
    return JSONResponse({"status": True})


def _answered_true(method: str, path: str, key: str) -> Endpoint:
    """Copy and delete, answered `true` as Open WebUI does: on the connection at url_idx, else
    on the first serving the model named by `key` (copy's source, delete's model)."""
    async def endpoint(request: Request, user: Claims, url_idx: int | None) -> Response:
        body = await json_body(request)
        name = body.get(key) if key in body else model_of(body)
        if not isinstance(name, str) or not name:
            raise HTTPException(422, f"{key}: a model name is required.")
        runtime = await runtime_of(request)
        target = (await ollama_targets(runtime, name, user, url_idx)).targets[0]
        try:
            sent = dumps({**body, (key if key in body else "model"): target.model})
        except RecursionError:  # valid JSON (orjson reads 1,024 levels) Python cannot write
            raise HTTPException(400, "The request is nested too deeply to pass on.") from None
        failure = await _send(target.upstream, UpstreamRequest(method, path, sent), runtime.wait)
        return failure or JSONResponse(True)

    return endpoint


async def _send(upstream: Upstream, request: UpstreamRequest, wait: float) -> Response | None:
    """None once Ollama has done it; else its refusal as it gave it, or why it could not."""
    timeout = aiohttp.ClientTimeout(total=wait + 30, connect=wait)
    try:
        async with upstream.open(request, timeout=timeout) as response:
            if response.status < 400:
                return None
            return Response(await response.read(), response.status,
                            media_type=response.headers.get("Content-Type"))
    except aiohttp.ClientConnectorError:
        raise HTTPException(503, f"Ollama connection {upstream.label} is unreachable.") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise HTTPException(502, f"Ollama connection {upstream.label} failed: "
                                 f"{type(exc).__name__}.") from None


def _routed(path: str) -> Endpoint:
    async def endpoint(request: Request, user: Claims, url_idx: int | None) -> Response:
        return await by_model(request, user, path, url_idx)

    return endpoint


def _managed(method: str, path: str) -> Endpoint:
    async def endpoint(request: Request, user: Claims, url_idx: int | None) -> Response:
        return await _at_index(request, method, path, url_idx)

    return endpoint


def add_routes(path: str, endpoint: Endpoint, methods: list[str], admin: bool = False,
               prefixes: tuple[str, ...] = PREFIXES, to: APIRouter = router,
               **options: Any) -> None:
    """`path` under each prefix, twice: url_idx as a query parameter, and as the last path
    segment (`{path}/{url_idx}`)."""

    async def by_query(request: Request, user: CurrentUser,
                       url_idx: int | None = UrlIdx) -> Response:
        return await endpoint(request, user, url_idx)

    async def by_path(request: Request, user: CurrentUser,
                      url_idx: int = UrlIdxPath) -> Response:
        return await endpoint(request, user, url_idx)

    dependencies = ADMIN if admin else []
    for prefix in prefixes:
        for method in methods:  # one operation each: an operation id is made of one method
            to.add_api_route(f"{prefix}{path}", by_query, methods=[method],
                             dependencies=dependencies, **options)
            to.add_api_route(f"{prefix}{path}/{{url_idx}}", by_path, methods=[method],
                             dependencies=dependencies, **options)


async def status(_user: CurrentUser) -> dict[str, bool]:
    """Open WebUI's check that its Ollama API is there."""
    return {"status": True}


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
PASSED_ON: dict[int | str, dict[str, Any]] = {
    200: {"description": "Ollama's answer: JSON, or NDJSON when streamed.",
          "content": {"application/json": {}, "application/x-ndjson": {}}},
    400: {"description": "Malformed JSON body, or refused by Ollama.", **_OLLAMA_ERROR},
    404: {"description": "No connection serves the model (or none at url_idx), or Ollama "
                         "does not know it.", **_OLLAMA_ERROR},
    "default": {"description": "Ollama's other answers, passed on as they are."}}

for _verb in ("GET", "HEAD"):
    router.add_api_route("/ollama/", status, methods=[_verb], summary="Get Status",
                         include_in_schema=_verb == "GET")
add_routes("/api/tags", tags, ["GET"], summary="Ollama tags", responses=_NO_CONNECTION)
add_routes("/api/version", version, ["GET"], summary="Ollama version",
           responses=_NO_CONNECTION)
add_routes("/api/ps", ps, ["GET"], summary="Loaded models", responses=_NO_CONNECTION)
for _routed_path in ("chat", "generate", "embed", "embeddings", "show"):
    add_routes(f"/api/{_routed_path}", _routed(f"/api/{_routed_path}"), ["POST"],
               summary=f"Ollama /api/{_routed_path}, by model", openapi_extra=_BY_MODEL_BODY,
               responses=PASSED_ON)
add_routes("/api/unload", unload, ["POST"], admin=True, summary="Unload a model (admin)",
           openapi_extra=_BY_MODEL_BODY, responses=PASSED_ON)
# Open WebUI declares push as DELETE (its app never calls it); Ollama's own is POST: both,
# to the connection at url_idx or the first serving the model.
add_routes("/api/push", _routed("/api/push"), ["POST", "DELETE"], admin=True,
           summary="Ollama /api/push (admin)", openapi_extra=_BY_MODEL_BODY,
           responses=PASSED_ON)
for _managed_path, _methods in (("pull", ["POST"]), ("create", ["POST"])):
    add_routes(f"/api/{_managed_path}", _managed("POST", f"/api/{_managed_path}"), _methods,
               admin=True, summary=f"Ollama /api/{_managed_path} (admin)",
               openapi_extra=_ANY_BODY, responses=PASSED_ON)
for _method, _managed_path, _key in (("POST", "copy", "source"), ("DELETE", "delete", "model")):
    add_routes(f"/api/{_managed_path}", _answered_true(_method, f"/api/{_managed_path}", _key),
               [_method], admin=True, summary=f"Ollama /api/{_managed_path} (admin)",
               openapi_extra=_ANY_BODY, responses={**PASSED_ON, 200: {
                   "description": "Done.", "content": {"application/json": {"schema": {
                       "type": "boolean"}}}}})
