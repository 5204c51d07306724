"""`POST /api/models/unload` (admin): free a model's memory on the servers that run it, as Open
WebUI's one button does. A preset stands for its base model. Ollama unloads with `keep_alive: 0`
on every connection serving the model; a llama.cpp connection with its `/models/unload`; other
OpenAI-compatible servers have no such thing (400 says so)."""

from __future__ import annotations

import json

import aiohttp
from fastapi import APIRouter, HTTPException, status

from owui.core.auth import AdminUser
from owui.core.errors import error_response
from owui.core.service import Session
from owui.inference import crud
from owui.inference import model_management as mm
from owui.inference.catalog import Target
from owui.inference.providers.base import UpstreamRequest
from owui.inference.runtime import Runtime, RuntimeDep
from owui.inference.schemas import ModelUnloadForm

router = APIRouter(tags=["models"])


async def _ollama(targets: list[Target]) -> list[str]:
    """Unload on each Ollama connection; the failures, by connection."""
    failures = []
    for target in targets:
        body = json.dumps({"model": target.model, "keep_alive": 0, "prompt": ""}).encode()
        try:
            async with target.upstream.open(UpstreamRequest("POST", "/api/generate", body)) \
                    as response:
                if response.status >= 400:
                    failures.append(f"{target.upstream.label}: HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            failures.append(f"{target.upstream.label}: {exc or type(exc).__name__}")
    return failures


async def _llama_cpp(runtime: Runtime, session: Session, target: Target) -> object:
    row = await crud.get_connection(session, target.upstream.id)
    provider = str(((row.options if row else None) or {}).get("provider") or "")
    if row is None or provider != "llama.cpp":
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f'Provider "{provider or "default"}" does not support model '
                            "unloading.")
    managed = mm.Managed(mm.root_url(row.url) + "/models/unload", row.api_key, None, provider)
    return await mm.call(managed, "POST", runtime.settings.upstream_connect_timeout,
                         {"model": target.model})


@router.post("/api/models/unload",
             responses={400: error_response("The model's server cannot unload models."),
                        404: error_response("No connection serves the model."),
                        502: error_response("A server failed to unload it.")},
             summary="Unload a model from the servers running it (admin)")
async def unload_model(form: ModelUnloadForm, runtime: RuntimeDep, session: Session,
                       admin: AdminUser) -> object:
    targets = (await runtime.resolve(form.model, admin)).targets
    ollama = [t for t in targets if t.upstream.config.provider == "ollama"]
    if ollama:
        failures = await _ollama(ollama)
        if failures:
            raise HTTPException(status.HTTP_502_BAD_GATEWAY,
                                f"Could not unload {form.model!r}: {'; '.join(failures)}")
        return {"status": True}
    return await _llama_cpp(runtime, session, targets[0])
