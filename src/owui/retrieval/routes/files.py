"""Open WebUI's files API: upload (streamed, capped, hashed, type-checked; processed in the
background), list, get, content, processing status, delete."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from owui.core.auth import CurrentUser, UserToken
from owui.core.errors import not_found_response
from owui.core.service import Session
from owui.retrieval import crud
from owui.retrieval.access import check_upload_target, file_for
from owui.retrieval.filetypes import safe_filename
from owui.retrieval.groups import GROUPS
from owui.retrieval.models import File, new_id
from owui.retrieval.reprocess import replace_content
from owui.retrieval.routes.common import delete_file
from owui.retrieval.runtime import Runtime, RuntimeDep
from owui.retrieval.schemas import ContentForm, RenameForm, file_view, job_view
from owui.retrieval.storage import StorageError
from owui.retrieval.upload import receive_upload

router = APIRouter(prefix="/api/v1/files", tags=["files"], dependencies=GROUPS)
WAIT_FOR_PROCESSING = 600.0
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "metadata": {"type": "string", "description": "a JSON object"}}}}}}}


@router.post("/", openapi_extra=UPLOAD_BODY, responses=not_found_response(
    "The metadata names a collection or folder that does not exist (or is not yours)."))
async def upload_file(request: Request, user: CurrentUser, token: UserToken, session: Session,
                      rt: RuntimeDep,
                      process: bool = True, process_in_background: bool = True,
                      ) -> dict[str, Any]:
    upload = await receive_upload(request, rt.tmp_dir, rt.max_file_size)
    file_id = new_id()
    try:
        # A collection named in the metadata must be one the caller may add to: checked
        # before anything is stored, so a refused upload leaves nothing behind.
        await check_upload_target(session, user, upload.metadata)
        await rt.storage.put(file_id, upload.path)
    except (OSError, StorageError, RuntimeError) as exc:
        raise HTTPException(503, f"The file store ({rt.storage.name}) failed: {exc}") from None
    finally:
        upload.discard()
    meta = {"name": upload.filename, "content_type": upload.kind.content_type,
            "size": upload.size, "data": upload.metadata}
    if user.is_admin:  # the HTML view shows only what an admin uploaded
        meta["uploaded_by_admin"] = True
    file = File(id=file_id, user_id=user.sub, hash=upload.sha256, filename=upload.filename,
                path=file_id, status="pending" if process else "stored", meta=meta)
    session.add(file)
    await session.commit()
    if process:
        job = await rt.jobs.create_file_job(file, user.sub)
        rt.jobs.submit(job.id, file.id, token)
        if not process_in_background:
            await _wait(rt, job.id)
    await session.refresh(file)
    return file_view(file)


async def _wait(rt: Runtime, job_id: str) -> None:
    job = await rt.jobs.wait(job_id, WAIT_FOR_PROCESSING)
    if job is not None and job.status == "failed":
        raise HTTPException(422, f"The file was stored but could not be processed: {job.error}")


@router.get("/")
async def list_files(user: CurrentUser, session: Session,
                     page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                     content: bool = True) -> dict[str, Any]:
    files, total = await crud.list_files(session, None if user.is_admin else user.sub, page)
    return {"items": [file_view(f, content=content) for f in files], "total": total}


@router.get("/{file_id}")
async def get_file(file_id: str, user: CurrentUser, session: Session) -> dict[str, Any]:
    return file_view(await file_for(session, user, file_id), content=True)


@router.get("/{file_id}/content")
async def get_content(file_id: str, user: CurrentUser, session: Session, rt: RuntimeDep,
                      attachment: bool = False) -> StreamingResponse:
    file = await file_for(session, user, file_id)
    disposition = "attachment" if attachment else "inline"
    headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(file.filename)}"}
    if (file.meta or {}).get("size"):
        headers["Content-Length"] = str(file.meta["size"])
    chunks = await _opened(rt, file)
    media_type = (file.meta or {}).get("content_type") or "application/octet-stream"
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


async def _opened(rt: Runtime, file: File) -> Any:
    try:
        return await asyncio.to_thread(_first_and_rest, rt, file.path)
    except (OSError, StorageError, RuntimeError) as exc:
        raise HTTPException(404, f"The content of file '{file.id}' is gone: "
                                 f"{exc.__class__.__name__}") from None


def _first_and_rest(rt: Runtime, key: str) -> Any:
    """Open the stored bytes now, so a missing object is a clear 404 rather than a cut stream."""
    iterator = rt.storage.iter_bytes(key)
    first = next(iterator, b"")

    def chain() -> Any:
        yield first
        yield from iterator

    return chain()


@router.get("/{file_id}/process/status")
async def process_status(file_id: str, user: CurrentUser, session: Session, rt: RuntimeDep,
                         stream: bool = False) -> Any:
    file = await file_for(session, user, file_id)
    if not stream:
        return await _status(rt, file)
    return StreamingResponse(_status_events(rt, file.id), media_type="text/event-stream")


async def _status(rt: Runtime, file: File) -> dict[str, Any]:
    status: dict[str, Any] = {"status": file.status}
    if file.error:
        status["error"] = file.error
    if file.job_id:
        async with rt.sessions() as session:
            job = await crud.get_job(session, file.job_id)
        if job is not None:
            status["job"] = job_view(job)
    return status


async def _status_events(rt: Runtime, file_id: str) -> AsyncIterator[str]:
    last = None
    for _ in range(int(WAIT_FOR_PROCESSING * 2)):
        async with rt.sessions() as session:
            file = await crud.get_file(session, file_id)
        if file is None:
            yield f"data: {json.dumps({'status': 'failed', 'error': 'file deleted'})}\n\n"
            return
        status = await _status(rt, file)
        if status != last:
            yield f"data: {json.dumps(status)}\n\n"
            last = status
        if file.status in ("completed", "failed", "stored"):
            return
        await rt.jobs.settled(file.job_id, 0.5)


@router.delete("/{file_id}")
async def remove_file(file_id: str, user: CurrentUser, session: Session,
                      rt: RuntimeDep) -> dict[str, str]:
    file = await file_for(session, user, file_id, write=True)
    await delete_file(rt, session, file)
    return {"message": "File deleted successfully"}


@router.get("/{file_id}/data/content")
async def get_data_content(file_id: str, user: CurrentUser, session: Session,
                           ) -> dict[str, str]:
    """The text extracted from the file (what is searched)."""
    file = await file_for(session, user, file_id)
    return {"content": file.content or ""}


@router.post("/{file_id}/data/content/update")
async def update_data_content(file_id: str, form: ContentForm, user: CurrentUser,
                              token: UserToken, session: Session,
                              rt: RuntimeDep) -> dict[str, Any]:
    file = await file_for(session, user, file_id, write=True)
    if file.status == "pending":
        raise HTTPException(409, f"File '{file.id}' is still being processed.")
    await replace_content(rt, session, file, form.content, token)
    return file_view(file, content=True)


@router.post("/{file_id}/rename")
async def rename_file(file_id: str, form: RenameForm, user: CurrentUser,
                      session: Session) -> dict[str, Any]:
    file = await file_for(session, user, file_id, write=True)
    file.filename = safe_filename(form.filename)
    file.meta = {**(file.meta or {}), "name": file.filename}
    await session.commit()
    await session.refresh(file)
    return file_view(file)


@router.get("/{file_id}/content/html")
async def get_html_content(file_id: str, user: CurrentUser, session: Session,
                           rt: RuntimeDep) -> StreamingResponse:
    """The file as a page (text/html), only for what an admin uploaded (as Open WebUI):
    anyone's HTML served from this origin could run in the reader's session."""
    file = await file_for(session, user, file_id)
    if not (file.meta or {}).get("uploaded_by_admin"):
        raise HTTPException(403, "Only files an admin uploaded are shown as HTML.")
    chunks = await _opened(rt, file)
    return StreamingResponse(chunks, media_type="text/html")


@router.get("/{file_id}/content/{file_name}")
async def get_named_content(file_id: str, file_name: str, user: CurrentUser,
                            session: Session, rt: RuntimeDep) -> StreamingResponse:
    """The content under a name of the client's choosing (links that end in the name)."""
    return await get_content(file_id, user, session, rt)
