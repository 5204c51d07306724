"""The files of a collection, as the 0.12 Knowledge page shows them: paged with their folders
and breadcrumbs, those still being processed (also as a stream), added (one or a batch),
updated (its rows copied again), moved between folders, removed; and a search across the files
of every collection the user sees."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.auth import CurrentUser, UserToken
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.retrieval import crud, library
from owui.retrieval.access import file_for, file_key, knowledge_for
from owui.retrieval.groups import GROUPS
from owui.retrieval.models import File, Knowledge
from owui.retrieval.routes.common import Page, delete_file, full_view
from owui.retrieval.runtime import Runtime, RuntimeDep
from owui.retrieval.schemas import (
    KnowledgeFileIdForm,
    directory_view,
    file_user_view,
    file_view,
    knowledge_view,
)

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"], dependencies=GROUPS)
WAIT_FOR_PROCESSING = 600.0
PENDING_POLL = 1.0  # seconds between looks of the pending stream
PENDING_STREAM_LIMIT = 3600.0
Text = Annotated[str | None, Query(max_length=1000)]
BatchForm = Annotated[list[KnowledgeFileIdForm], Body(min_length=1, max_length=100)]


@router.get("/search/files")
async def search_files(user: CurrentUser, session: Session, query: Text = None,
                       include_content: bool = False, page: Page = 1) -> dict[str, Any]:
    rows, total = await library.files_across(session, user.sub, user.is_admin, query=query,
                                             content=include_content, page=page)
    # Each file with its collection (the picker shows "<collection> > File").
    items = [{**file_user_view(file, directory_id, ""), "collection": knowledge_view(k, [])}
             for file, directory_id, k in rows]
    return {"items": items, "directories": [], "breadcrumbs": [], "total": total}


@router.get("/{knowledge_id}/files")
async def list_files(knowledge_id: str, user: CurrentUser, session: Session,
                     query: Text = None, include_content: bool = False,
                     view_option: Text = None, order_by: Text = None, direction: Text = None,
                     directory_id: Annotated[str | None, Query(max_length=64)] = None,
                     page: Page = 1,
                     limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
                     ) -> dict[str, Any]:
    """Open WebUI's KnowledgeFileListResponse. `directory_id` scopes to one folder ('' is the
    top); without it, every file. `limit` is the admin's only."""
    knowledge = await knowledge_for(session, user, knowledge_id)
    folder = await library.directory_in(session, knowledge.id, directory_id)
    size = limit if (user.is_admin and limit) else crud.PAGE_SIZE
    rows, total = await library.knowledge_files(
        session, knowledge.id, query=query, content=include_content,
        directory=folder.id if folder else None, scoped=directory_id is not None,
        order_by=order_by, direction=direction, page=page, size=size)
    all_dirs = await library.directories(session, knowledge.id)
    paths = library.paths(all_dirs)
    here = folder.id if folder else None
    return {"items": [file_user_view(f, d, paths.get(d or "", "")) for f, d in rows],
            "directories": [directory_view(d) for d in all_dirs if d.parent_id == here],
            "breadcrumbs": [directory_view(d) for d in library.breadcrumbs(all_dirs, here)],
            "total": total}


@router.get("/{knowledge_id}/files/pending")
async def pending_files(knowledge_id: str, user: CurrentUser, session: Session,
                        rt: RuntimeDep, stream: bool = False) -> Any:
    """Files uploaded for the collection and still being processed (they join it when done);
    `stream`: server-sent events of the list, until it is empty."""
    knowledge = await knowledge_for(session, user, knowledge_id)
    if not stream:
        return [file_view(f) for f in await library.pending_files(session, knowledge.id)]
    return StreamingResponse(_pending_events(rt, knowledge.id), media_type="text/event-stream")


async def _pending_events(rt: Runtime, knowledge_id: str) -> AsyncIterator[str]:
    for _ in range(int(PENDING_STREAM_LIMIT / PENDING_POLL)):
        async with rt.sessions() as session:  # one short session a look, not one per stream
            pending = await library.pending_files(session, knowledge_id)
        yield f"data: {json.dumps([file_view(f) for f in pending])}\n\n"
        if not pending:
            return
        await asyncio.sleep(PENDING_POLL)


async def processed(rt: Runtime, session: AsyncSession, file: File, token: str) -> File:
    """The file once processed (a stored-only upload is processed now); 400 if it fails."""
    if file.status == "stored":
        job = await rt.jobs.create_file_job(file, file.user_id)
        rt.jobs.submit(job.id, file.id, token)
        await session.refresh(file)
    if file.status == "pending" and file.job_id:
        await rt.jobs.wait(file.job_id, WAIT_FOR_PROCESSING)
        await session.refresh(file)
    if file.status != "completed":
        reason = f": {file.error}" if file.error else ""
        raise HTTPException(400, f"File '{file.id}' is not processed (status {file.status})"
                                 f"{reason}; only processed files can be added.")
    return file


async def attach(rt: Runtime, session: AsyncSession, knowledge: Knowledge, file: File,
                  directory_id: str | None) -> None:
    """The rows first, the link committed last: a collection lists a file only once all of
    its rows are in. A crash in between leaves rows of a file it does not list, which the
    client's retry replaces (delete, then copy)."""
    if not await crud.link_file(session, knowledge.id, file.id, directory_id):
        return
    await rt.store.delete(collection=knowledge.id, file_id=file.id)
    if await rt.store.copy(file_key(file.id), knowledge.id, file.id) == 0:
        await session.rollback()
        raise HTTPException(400, f"File '{file.id}' has no indexed content to add.")
    await session.commit()
    rt.pipeline.request_maintenance()


@router.post("/{knowledge_id}/file/add")
async def add_file(knowledge_id: str, form: KnowledgeFileIdForm, token: UserToken,
                   user: CurrentUser, session: Session, rt: RuntimeDep) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    folder = await library.directory_in(session, knowledge.id, form.directory_id)
    file = await processed(rt, session, await file_for(session, user, form.file_id), token)
    await attach(rt, session, knowledge, file, folder.id if folder else None)
    await session.refresh(knowledge)
    return await full_view(session, user, knowledge)


@router.post("/{knowledge_id}/files/batch/add")
async def add_files(knowledge_id: str, form: BatchForm, token: UserToken, user: CurrentUser,
                    session: Session, rt: RuntimeDep) -> dict[str, Any]:
    """All named files are checked first (each readable and processed): one that is not
    adds none."""
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    ready = []
    for item in form:
        folder = await library.directory_in(session, knowledge.id, item.directory_id)
        file = await processed(rt, session, await file_for(session, user, item.file_id), token)
        ready.append((file, folder.id if folder else None))
    for file, directory_id in ready:
        await attach(rt, session, knowledge, file, directory_id)
    await session.refresh(knowledge)
    return await full_view(session, user, knowledge)


@router.post("/{knowledge_id}/file/update")
async def update_file(knowledge_id: str, form: KnowledgeFileIdForm, user: CurrentUser,
                      session: Session, rt: RuntimeDep) -> dict[str, Any]:
    """The file's rows copied into the collection again (after its content was edited)."""
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    file = await file_for(session, user, form.file_id)
    if knowledge.id not in await crud.knowledge_ids_of_file(session, file.id):
        raise HTTPException(404, f"File '{file.id}' is not in this knowledge collection.")
    await rt.store.delete(collection=knowledge.id, file_id=file.id)
    await rt.store.copy(file_key(file.id), knowledge.id, file.id)
    await crud.touch_knowledge(session, knowledge.id)
    await session.commit()
    await session.refresh(knowledge)
    return await full_view(session, user, knowledge)


@router.post("/{knowledge_id}/file/move")
async def move_file(knowledge_id: str, form: KnowledgeFileIdForm, user: CurrentUser,
                    session: Session) -> dict[str, bool]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    folder = await library.directory_in(session, knowledge.id, form.directory_id)
    if not await library.set_file_directory(session, knowledge.id, form.file_id,
                                            folder.id if folder else None):
        raise HTTPException(404, f"File '{form.file_id}' is not in this knowledge collection.")
    await crud.touch_knowledge(session, knowledge.id)
    await session.commit()
    return {"status": True}


@router.post("/{knowledge_id}/file/remove")
async def remove_file(knowledge_id: str, form: KnowledgeFileIdForm, user: CurrentUser,
                      session: Session, rt: RuntimeDep, delete_file_too: Annotated[
                          bool, Query(alias="delete_file")] = True) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    file = await file_for(session, user, form.file_id)
    if not await crud.unlink_file(session, knowledge.id, file.id):
        raise HTTPException(404, f"File '{file.id}' is not in this knowledge collection.")
    await rt.store.delete(collection=knowledge.id, file_id=file.id)
    if delete_file_too and _owns(user, file):
        await delete_file(rt, session, file)
    await session.refresh(knowledge)
    return await full_view(session, user, knowledge)


def _owns(user: Claims, file: File) -> bool:
    return user.is_admin or file.user_id == user.sub
