"""Open WebUI's knowledge collections: private, or shared with named users (read or write);
the owner or an admin changes who may see them. A file added is indexed into the collection
(its vectors copied, not recomputed); removing or deleting takes the vectors with it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.auth import CurrentUser, UserToken
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.retrieval import crud
from owui.retrieval.access import can_write, file_for, file_key, knowledge_for
from owui.retrieval.models import Knowledge
from owui.retrieval.routes.common import delete_file
from owui.retrieval.runtime import RuntimeDep
from owui.retrieval.schemas import (
    KnowledgeFileIdForm,
    KnowledgeForm,
    file_metadata_view,
    knowledge_view,
)

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])
WAIT_FOR_PROCESSING = 600.0


async def _full_view(session: AsyncSession, user: Claims, knowledge: Knowledge) -> dict[str, Any]:
    grants = (await crud.grants_for(session, "knowledge", [knowledge.id]))[knowledge.id]
    files = await crud.knowledge_files(session, knowledge.id)
    return knowledge_view(knowledge, grants, files=[file_metadata_view(f) for f in files],
                          write_access=await can_write(session, user, knowledge))


def _grants(form: KnowledgeForm) -> list[dict[str, str]]:
    unique = {(g.principal_id, g.permission): g for g in form.access_grants or []}
    return [g.model_dump() for g in unique.values()]


@router.get("/")
async def list_knowledge(user: CurrentUser, session: Session,
                         page: Annotated[int | None, Query(ge=1, le=1_000_000)] = 1,
                         ) -> dict[str, Any]:
    found, total = await crud.visible_knowledge(session, None if user.is_admin else user.sub,
                                                page)
    ids = [k.id for k in found]
    grants = await crud.grants_for(session, "knowledge", ids)
    counts = await crud.file_counts(session, ids)
    items = [knowledge_view(k, grants[k.id], user=None, file_count=counts.get(k.id, 0),
                            write_access=await can_write(session, user, k)) for k in found]
    return {"items": items, "total": total}


@router.post("/create")
async def create_knowledge(form: KnowledgeForm, user: CurrentUser,
                           session: Session) -> dict[str, Any]:
    knowledge = Knowledge(user_id=user.sub, name=form.name, description=form.description)
    session.add(knowledge)
    await session.flush()
    await crud.replace_grants(session, "knowledge", knowledge.id, _grants(form))
    await session.commit()
    return await _full_view(session, user, knowledge)


@router.get("/{knowledge_id}")
async def get_knowledge(knowledge_id: str, user: CurrentUser,
                        session: Session) -> dict[str, Any]:
    return await _full_view(session, user, await knowledge_for(session, user, knowledge_id))


@router.post("/{knowledge_id}/update")
async def update_knowledge(knowledge_id: str, form: KnowledgeForm, user: CurrentUser,
                           session: Session) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    knowledge.name, knowledge.description = form.name, form.description
    if form.access_grants is not None:
        if not (user.is_admin or knowledge.user_id == user.sub):
            raise HTTPException(403, "Only the owner or an admin may change who has access.")
        await crud.replace_grants(session, "knowledge", knowledge.id, _grants(form))
    await session.commit()
    return await _full_view(session, user, knowledge)


@router.post("/{knowledge_id}/file/add")
async def add_file(knowledge_id: str, form: KnowledgeFileIdForm, token: UserToken,
                   user: CurrentUser, session: Session, rt: RuntimeDep) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    file = await file_for(session, user, form.file_id)
    if file.status == "stored":  # uploaded with process=false: process it now
        job = await rt.jobs.create_file_job(file, user.sub)
        rt.jobs.submit(job.id, file.id, token)
        await session.refresh(file)
    if file.status == "pending" and file.job_id:
        await rt.jobs.wait(file.job_id, WAIT_FOR_PROCESSING)
        await session.refresh(file)
    if file.status != "completed":
        reason = f": {file.error}" if file.error else ""
        raise HTTPException(400, f"File '{file.id}' is not processed (status {file.status})"
                                 f"{reason}; only processed files can be added.")
    # The rows first, the link committed last: a collection lists a file only once all of
    # its rows are in. A crash in between leaves rows of a file it does not list, which the
    # client's retry replaces (delete, then copy).
    if await crud.link_file(session, knowledge.id, file.id):
        await rt.store.delete(collection=knowledge.id, file_id=file.id)
        copied = await rt.store.copy(file_key(file.id), knowledge.id, file.id)
        if copied == 0:
            await session.rollback()
            raise HTTPException(400, f"File '{file.id}' has no indexed content to add.")
        await session.commit()
        rt.pipeline.request_maintenance()
    await session.refresh(knowledge)
    return await _full_view(session, user, knowledge)


@router.post("/{knowledge_id}/file/remove")
async def remove_file(knowledge_id: str, form: KnowledgeFileIdForm, user: CurrentUser,
                      session: Session, rt: RuntimeDep, delete_file_too: Annotated[
                          bool, Query(alias="delete_file")] = True) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    file = await file_for(session, user, form.file_id)
    if not await crud.unlink_file(session, knowledge.id, file.id):
        raise HTTPException(404, f"File '{file.id}' is not in this knowledge collection.")
    await rt.store.delete(collection=knowledge.id, file_id=file.id)
    if delete_file_too and (user.is_admin or file.user_id == user.sub):
        await delete_file(rt, session, file)
    await session.refresh(knowledge)
    return await _full_view(session, user, knowledge)


@router.delete("/{knowledge_id}/delete")
async def delete_knowledge(knowledge_id: str, user: CurrentUser, session: Session,
                           rt: RuntimeDep) -> bool:
    knowledge = await knowledge_for(session, user, knowledge_id)
    if not (user.is_admin or knowledge.user_id == user.sub):
        raise HTTPException(403, "Only the owner or an admin may delete a knowledge collection.")
    await rt.store.delete(collection=knowledge.id)
    await crud.replace_grants(session, "knowledge", knowledge.id, [])
    await session.delete(knowledge)
    await session.commit()
    return True
