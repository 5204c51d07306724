"""Open WebUI's knowledge collections: private, or shared with named users (read or write);
the owner or an admin changes who may see them. Listed and searched in pages, reset, exported
(admin), and reindexed (admin). The files inside: knowledge_files.py; folders: knowledge_dirs.py.
Fixed paths (`/search`, `/reindex`) are declared before `/{knowledge_id}`: a word is never
looked up as an id."""

from __future__ import annotations

import io
import zipfile
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.access import require_permission
from owui.core.auth import AdminUser, CurrentUser, UserToken
from owui.core.errors import InvalidError
from owui.core.service import Session
from owui.core.sharing import check_sharing
from owui.core.tokens import Claims
from owui.retrieval import crud, knowledge_index, library
from owui.retrieval.access import can_write, knowledge_for
from owui.retrieval.groups import GROUPS, caller_access, caller_groups
from owui.retrieval.models import File, Knowledge, KnowledgeDirectory, KnowledgeFile
from owui.retrieval.routes.common import Page, delete_file, full_view
from owui.retrieval.runtime import RuntimeDep
from owui.retrieval.schemas import AccessGrantsForm, GrantForm, KnowledgeForm, knowledge_view

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"], dependencies=GROUPS)
Text = Annotated[str | None, Query(max_length=1000)]


def _grants(user: Claims, grants: list[GrantForm] | None) -> list[dict[str, str]]:
    """Each grant once. A group must be one of the caller's (their signed access says which),
    or the caller an admin: retrieval cannot look groups up, and a grant to a group nobody is
    in would silently share with no one (422 names it, nothing is stored)."""
    unique = {(g.principal_type, g.principal_id, g.permission): g for g in grants or []}
    mine = caller_groups()
    for grant in unique.values():
        if grant.principal_type == "group" and not user.is_admin \
                and grant.principal_id not in mine:
            raise InvalidError(f"access_grants: group '{grant.principal_id}' is not one of "
                               "your groups.")
    return [g.model_dump() for g in unique.values()]


async def _set_grants(session: AsyncSession, user: Claims, knowledge_id: str,
                      given: list[GrantForm] | None) -> None:
    """The collection's grants replaced, once the caller may share it that way (a grant it
    already had passes: core.sharing)."""
    grants = _grants(user, given)
    current = (await crud.grants_for(session, "knowledge", [knowledge_id]))[knowledge_id]
    check_sharing(grants, caller_access(), "knowledge", current=current)
    await crud.replace_grants(session, "knowledge", knowledge_id, grants)


async def _listed(session: AsyncSession, user: Claims, found: list[Knowledge],
                  total: int) -> dict[str, Any]:
    """Open WebUI's KnowledgeAccessListResponse."""
    ids = [k.id for k in found]
    grants = await crud.grants_for(session, "knowledge", ids)
    counts = await crud.file_counts(session, ids)
    items = [knowledge_view(k, grants[k.id], user=None, file_count=counts.get(k.id, 0),
                            write_access=await can_write(session, user, k)) for k in found]
    return {"items": items, "total": total}


@router.get("/")
async def list_knowledge(user: CurrentUser, session: Session, page: Page = 1) -> dict[str, Any]:
    found, total = await library.search_knowledge(
        session, user.sub, user.is_admin, query=None, view=None, order_by=None,
        direction=None, page=page)
    return await _listed(session, user, found, total)


@router.get("/search")
async def search_knowledge(user: CurrentUser, session: Session, query: Text = None,
                           view_option: Text = None, source: Text = None,
                           order_by: Text = None, direction: Text = None,
                           page: Page = 1) -> dict[str, Any]:
    """The Knowledge page, the model editor and the `#` picker: name or description matching
    `query`; view_option 'created' (mine) or 'shared' (others'); source 'local' or
    'external' (on an external source)."""
    found, total = await library.search_knowledge(
        session, user.sub, user.is_admin, query=query, view=view_option, order_by=order_by,
        direction=direction, page=page, source=source)
    return await _listed(session, user, found, total)


# As in Open WebUI, only admins and holders of `workspace.knowledge` make collections (403
# naming it otherwise); reading and sharing what exists needs no such permission.
@router.post("/create", dependencies=[Depends(require_permission("workspace.knowledge"))])
async def create_knowledge(form: KnowledgeForm, user: CurrentUser,
                           session: Session) -> dict[str, Any]:
    knowledge = Knowledge(user_id=user.sub, name=form.name, description=form.description)
    session.add(knowledge)
    await session.flush()
    await _set_grants(session, user, knowledge.id, form.access_grants)
    await session.commit()
    return await full_view(session, user, knowledge)


@router.post("/reindex")
async def reindex(user: AdminUser, session: Session, token: UserToken, rt: RuntimeDep) -> bool:
    """Every processed file again (after the admin changed the embedding model or the
    chunking): in the background, each file's collections follow when it is done."""
    files, _ = await crud.list_files(session, None, None)
    for file in files:
        if file.status in ("completed", "failed"):
            job = await rt.jobs.create_file_job(file, file.user_id)
            rt.jobs.submit(job.id, file.id, token)
    return True


@router.post("/metadata/reindex")
async def reindex_metadata(user: AdminUser, session: Session, token: UserToken,
                           rt: RuntimeDep) -> dict[str, Any]:
    """Admin only, as in Open WebUI: every collection's name and description embedded again
    into the index of collections (knowledge_index.py); answers `{total, success}`."""
    return await knowledge_index.reindex(rt, session, token)


@router.get("/{knowledge_id}")
async def get_knowledge(knowledge_id: str, user: CurrentUser,
                        session: Session) -> dict[str, Any]:
    return await full_view(session, user, await knowledge_for(session, user, knowledge_id))


@router.post("/{knowledge_id}/update")
async def update_knowledge(knowledge_id: str, form: KnowledgeForm, user: CurrentUser,
                           session: Session) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True, content=False)
    knowledge.name, knowledge.description = form.name, form.description
    if form.access_grants is not None:
        _owner_or_admin(user, knowledge)
        await _set_grants(session, user, knowledge.id, form.access_grants)
    await session.commit()
    return await full_view(session, user, knowledge)


def _owner_or_admin(user: Claims, knowledge: Knowledge) -> None:
    if not (user.is_admin or knowledge.user_id == user.sub):
        raise HTTPException(403, "Only the owner or an admin may change who has access.")


@router.post("/{knowledge_id}/access/update")
async def update_access(knowledge_id: str, form: AccessGrantsForm, user: CurrentUser,
                        session: Session) -> dict[str, Any]:
    knowledge = await knowledge_for(session, user, knowledge_id, write=True, content=False)
    _owner_or_admin(user, knowledge)
    await _set_grants(session, user, knowledge.id, form.access_grants)
    await crud.touch_knowledge(session, knowledge.id)
    await session.commit()
    await session.refresh(knowledge)
    return await full_view(session, user, knowledge)


@router.post("/{knowledge_id}/reset")
async def reset_knowledge(knowledge_id: str, user: CurrentUser, session: Session,
                          rt: RuntimeDep, include_directories: bool = True) -> dict[str, Any]:
    """Empty the collection: its vectors and links go; files the caller owns are deleted
    (as Open WebUI does), others' stay theirs."""
    knowledge = await knowledge_for(session, user, knowledge_id, write=True)
    files = await crud.knowledge_files(session, knowledge.id)
    await rt.store.delete(collection=knowledge.id)
    await session.execute(delete(KnowledgeFile).where(KnowledgeFile.knowledge_id == knowledge.id))
    if include_directories:
        await session.execute(delete(KnowledgeDirectory).where(
            KnowledgeDirectory.knowledge_id == knowledge.id))
    await crud.touch_knowledge(session, knowledge.id)
    await session.commit()
    for file in files:
        if user.is_admin or file.user_id == user.sub:
            await delete_file(rt, session, file)
    await session.refresh(knowledge)
    grants = (await crud.grants_for(session, "knowledge", [knowledge.id]))[knowledge.id]
    return knowledge_view(knowledge, grants, files=[])


@router.get("/{knowledge_id}/export")
async def export_knowledge(knowledge_id: str, user: AdminUser, session: Session) -> Response:
    """Admin only: a zip of each file's extracted text, `<filename>.txt`."""
    knowledge = await knowledge_for(session, user, knowledge_id)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in await crud.knowledge_files(session, knowledge.id):
            if file.content:
                zipped.writestr(_txt_name(file), file.content)
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in knowledge.name)
    return Response(archive.getvalue(), media_type="application/zip", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(safe + '.zip', safe='')}"})


def _txt_name(file: File) -> str:
    return file.filename if file.filename.endswith(".txt") else f"{file.filename}.txt"


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
