"""Open WebUI's `/api/v1/pipelines`: the admin page of Pipelines servers (OpenAI-compatible
connections that also run uploaded pipelines). owui connects to none: its filters, pipes and
actions are functions (`/api/v1/functions`). So the list of Pipelines servers is empty and
every call naming a server answers 404 saying so, after the request itself was checked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, File, Form, UploadFile
from pydantic import BaseModel

from owui.core.auth import AdminUser
from owui.core.errors import BadRequestError, NotFoundError, not_found_response

router = APIRouter(prefix="/api/v1/pipelines", tags=["pipelines"])
_NO_SERVER = not_found_response("owui connects to no Pipelines server: none at urlIdx.")


class NoPipelinesServer(NotFoundError):
    def __init__(self, index: int | None) -> None:
        which = f" at index {index}" if index is not None else ""
        super().__init__(f"No Pipelines server{which}: owui connects to no Pipelines servers. "
                         "Filters, pipes and actions are functions (Admin Panel > Functions).")


class AddPipelineForm(BaseModel):
    url: str
    urlIdx: int  # Open WebUI's field name


class DeletePipelineForm(BaseModel):
    id: str
    urlIdx: int  # Open WebUI's field name


@router.get("/list", summary="The Pipelines servers (none)")
async def servers(user: AdminUser) -> dict[str, list[dict[str, Any]]]:
    return {"data": []}


@router.get("/", summary="The pipelines of a Pipelines server (of all, without urlIdx: none)")
async def pipelines(user: AdminUser, urlIdx: int | None = None) -> dict[str, Any]:
    if urlIdx is None:
        return {"data": []}
    raise NoPipelinesServer(urlIdx)


@router.post("/add", summary="Add a pipeline from a URL to a Pipelines server",
             responses=_NO_SERVER)
async def add(form: AddPipelineForm, user: AdminUser) -> dict[str, Any]:
    raise NoPipelinesServer(form.urlIdx)


@router.delete("/delete", summary="Delete a pipeline from a Pipelines server",
               responses=_NO_SERVER)
async def delete(form: DeletePipelineForm, user: AdminUser) -> dict[str, Any]:
    raise NoPipelinesServer(form.urlIdx)


@router.post("/upload", summary="Upload a pipeline (.py) to a Pipelines server")
async def upload(user: AdminUser, urlIdx: int = Form(...),
                 file: UploadFile = File(...)) -> dict[str, Any]:
    if not (file.filename or "").endswith(".py"):
        raise BadRequestError("Only Python (.py) files are allowed.")
    raise NoPipelinesServer(urlIdx)


@router.get("/{pipeline_id}/valves", summary="A pipeline's valves")
async def valves(pipeline_id: str, user: AdminUser,
                 urlIdx: int | None = None) -> dict[str, Any]:
    raise NoPipelinesServer(urlIdx)


@router.get("/{pipeline_id}/valves/spec", summary="A pipeline's valves spec")
async def valves_spec(pipeline_id: str, user: AdminUser,
                      urlIdx: int | None = None) -> dict[str, Any]:
    raise NoPipelinesServer(urlIdx)


@router.post("/{pipeline_id}/valves/update", summary="Change a pipeline's valves")
async def valves_update(pipeline_id: str, user: AdminUser, urlIdx: int | None = None,
                        form: dict[str, Any] = Body(...)) -> dict[str, Any]:
    raise NoPipelinesServer(urlIdx)
