"""Open WebUI's model management on an OpenAI connection that is a llama.cpp server or LM Studio
(admin): its catalog, download (and the download's status), load, unload, delete, and its event
stream, under `/openai/models/{url_idx}/...` (model_management.py has the servers' endpoints)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from owui.core.auth import AdminUser
from owui.core.errors import error_response
from owui.core.service import Session
from owui.inference import model_management as mm
from owui.inference import provider_config
from owui.inference.runtime import RuntimeDep

router = APIRouter(prefix="/openai/models/{url_idx}", tags=["openai"])
UrlIdx = Path(ge=0, le=10_000, description="The connection's position among OpenAI's.")
_ANSWERS = {400: error_response("The connection's provider does not manage models."),
            404: error_response("No OpenAI connection at that position."),
            502: error_response("The server failed or could not be reached.")}


class ProviderModelForm(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=512)


async def _target(session: Session, url_idx: int, operation: str,
                  **path_params: str) -> mm.Managed:
    return mm.managed(await provider_config.rows_of(session, "openai"), url_idx, operation,
                      **path_params)


async def _send(runtime: RuntimeDep, session: Session, url_idx: int, operation: str,
                form: ProviderModelForm) -> Any:
    target = await _target(session, url_idx, operation)
    body = {**form.model_dump(exclude_none=True), "model": target.model(form.model)}
    if target.provider == "lmstudio" and operation == "unload":
        body = {"instance_id": body.get("instance_id") or body["model"]}
    answer = await mm.call(target, "POST", runtime.settings.upstream_connect_timeout, body)
    await runtime.catalog.refresh(force=True)  # the server's list changed
    return answer


@router.get("/catalog", responses=_ANSWERS, summary="The server's own model catalog")
async def catalog(runtime: RuntimeDep, session: Session, _admin: AdminUser,
                  url_idx: int = UrlIdx) -> Any:
    target = await _target(session, url_idx, "list")
    return await mm.call(target, "GET", runtime.settings.upstream_connect_timeout)


@router.post("/download", responses=_ANSWERS, summary="Download a model to the server")
async def download(form: ProviderModelForm, runtime: RuntimeDep, session: Session,
                   _admin: AdminUser, url_idx: int = UrlIdx) -> Any:
    return await _send(runtime, session, url_idx, "download", form)


@router.get("/download/status/{job_id}", responses=_ANSWERS,
            summary="A download's progress (LM Studio)")
async def download_status(runtime: RuntimeDep, session: Session, _admin: AdminUser,
                          url_idx: int = UrlIdx,
                          job_id: str = Path(min_length=1, max_length=200,
                                             pattern=r"^[\w.-]+$")) -> Any:
    target = await _target(session, url_idx, "download_status", job_id=job_id)
    return await mm.call(target, "GET", runtime.settings.upstream_connect_timeout)


@router.post("/load", responses=_ANSWERS, summary="Load a model on the server")
async def load(form: ProviderModelForm, runtime: RuntimeDep, session: Session,
               _admin: AdminUser, url_idx: int = UrlIdx) -> Any:
    return await _send(runtime, session, url_idx, "load", form)


@router.post("/unload", responses=_ANSWERS, summary="Unload a model from the server")
async def unload(form: ProviderModelForm, runtime: RuntimeDep, session: Session,
                 _admin: AdminUser, url_idx: int = UrlIdx) -> Any:
    return await _send(runtime, session, url_idx, "unload", form)


@router.get("/sse", responses=_ANSWERS, response_class=StreamingResponse,
            summary="The server's model events (llama.cpp), passed through")
async def model_events(runtime: RuntimeDep, session: Session, _admin: AdminUser,
                       url_idx: int = UrlIdx) -> StreamingResponse:
    target = await _target(session, url_idx, "sse")
    chunks, media_type = await mm.events(target, runtime.settings.upstream_connect_timeout)
    return StreamingResponse(chunks, media_type=media_type)


@router.delete("", responses=_ANSWERS, summary="Delete a model from the server")
async def delete(runtime: RuntimeDep, session: Session, _admin: AdminUser,
                 url_idx: int = UrlIdx,
                 model: str = Query(min_length=1, max_length=512)) -> Any:
    target = await _target(session, url_idx, "delete")
    answer = await mm.call(target, "DELETE", runtime.settings.upstream_connect_timeout,
                           query={"model": target.model(model)})
    await runtime.catalog.refresh(force=True)
    return answer
