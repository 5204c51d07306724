"""Open WebUI's processing calls for scripts and the app's "attach a web page": a file
(re)processed into a collection, a batch of files, a web page read into a named collection,
entries of a file removed from a collection; and the admin's resets."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.auth import AdminUser, CurrentUser, UserToken
from owui.core.errors import not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.retrieval import crud
from owui.retrieval.access import FILE_PREFIX, file_for, file_key, knowledge_for, named_key
from owui.retrieval.extract import Section
from owui.retrieval.groups import GROUPS
from owui.retrieval.models import Collection, File, Knowledge
from owui.retrieval.pipeline import sections_text
from owui.retrieval.reprocess import replace_content
from owui.retrieval.routes.common import delete_file
from owui.retrieval.routes.knowledge_files import attach, processed
from owui.retrieval.runtime import Runtime, RuntimeDep
from owui.retrieval.web.service import load_page
from owui.retrieval.youtube import load_transcript

router = APIRouter(prefix="/api/v1/retrieval", tags=["retrieval"], dependencies=GROUPS)
_NOT_FOUND = not_found_response("A named file or collection does not exist (or is not yours).")


class ProcessFileForm(BaseModel):
    file_id: str = Field(min_length=1, max_length=64)
    content: str | None = Field(default=None, max_length=5_000_000)
    collection_name: str | None = Field(default=None, max_length=300)


class FileRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=64)


class BatchForm(BaseModel):
    files: list[FileRef] = Field(min_length=1, max_length=100)
    collection_name: str = Field(min_length=1, max_length=300)


class UrlForm(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    collection_name: str | None = Field(default=None, max_length=200)


class DeleteForm(BaseModel):
    collection_name: str = Field(min_length=1, max_length=300)
    file_id: str = Field(min_length=1, max_length=64)


async def _target(session: AsyncSession, user: Claims, name: str | None,
                  file: File) -> Knowledge | None:
    """A collection to add the file to: a knowledge id the caller may write, or none (the
    file's own collection, `file-<id>`)."""
    if not name or name == file_key(file.id):
        return None
    return await knowledge_for(session, user, name, write=True)


@router.post("/process/file", responses=_NOT_FOUND)
async def process_file(form: ProcessFileForm, user: CurrentUser, token: UserToken,
                       session: Session, rt: RuntimeDep) -> dict[str, Any]:
    file = await file_for(session, user, form.file_id, write=True)
    knowledge = await _target(session, user, form.collection_name, file)
    if form.content is not None:
        await replace_content(rt, session, file, form.content, token)
    else:
        file = await processed(rt, session, file, token)
    if knowledge is not None:
        await attach(rt, session, knowledge, file, None)
    return {"status": True, "collection_name": knowledge.id if knowledge else file_key(file.id),
            "filename": file.filename, "content": file.content or ""}


@router.post("/process/files/batch", responses=_NOT_FOUND)
async def process_files(form: BatchForm, user: CurrentUser, token: UserToken,
                        session: Session, rt: RuntimeDep) -> dict[str, Any]:
    """Each file processed and added to the collection; one that fails is reported in
    `errors` and does not stop the others."""
    knowledge = await knowledge_for(session, user, form.collection_name, write=True)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for ref in form.files:
        try:
            file = await processed(rt, session, await file_for(session, user, ref.id), token)
            await attach(rt, session, knowledge, file, None)
        except HTTPException as exc:
            errors.append({"file_id": ref.id, "status": "failed", "error": exc.detail})
        except Exception as exc:  # a DomainError (404 and the like): this file only
            errors.append({"file_id": ref.id, "status": "failed", "error": str(exc)})
        else:
            results.append({"file_id": ref.id, "status": "completed", "error": None})
    return {"results": results, "errors": errors}


async def _load(rt: Runtime, session: AsyncSession, user: Claims, form: UrlForm,
                token: str, process: bool) -> dict[str, Any]:
    page, sections = await load_page(rt, form.url)
    return await _stored(rt, session, user, form, token, process, page.url, sections)


async def _stored(rt: Runtime, session: AsyncSession, user: Claims, form: UrlForm, token: str,
                  process: bool, source: str, sections: list[Section]) -> dict[str, Any]:
    """What was read from `form.url`, chunked into its named collection when `process`."""
    content = sections_text(sections)
    name = form.collection_name or hashlib.sha256(form.url.encode()).hexdigest()[:63]
    meta = {"name": form.url, "source": form.url}
    if process:
        collection = await _named(session, user, name)
        chunks = await rt.pipeline.chunk(sections)
        page_id = "web-" + hashlib.sha256(source.encode()).hexdigest()[:24]
        await rt.pipeline.embed_and_store(collection.key, page_id, chunks, meta, token=token)
    return {"status": True, "collection_name": name if process else None,
            "filename": form.url, "content": content,
            "file": {"data": {"content": content}, "meta": meta}}


async def _named(session: AsyncSession, user: Claims, name: str) -> Collection:
    found = await crud.get_collection(session, user.sub, name)
    if found is None:
        found = Collection(key=named_key("text", user.sub, name), user_id=user.sub,
                           name=name, kind="text")
        session.add(found)
        await session.commit()
    return found


@router.post("/process/web")
async def process_web(form: UrlForm, user: CurrentUser, token: UserToken, session: Session,
                      rt: RuntimeDep, process: bool = True) -> dict[str, Any]:
    return await _load(rt, session, user, form, token, process)


@router.post("/process/youtube")
async def process_youtube(form: UrlForm, user: CurrentUser, token: UserToken, session: Session,
                          rt: RuntimeDep, process: bool = True) -> dict[str, Any]:
    """A YouTube video's transcript (retrieval/youtube.py), kept as a web page is: 400 when the
    video has none, 502 when YouTube cannot be reached; nothing is stored then."""
    video, sections = await load_transcript(rt.settings, form.url)
    return await _stored(rt, session, user, form, token, process, f"youtube:{video}", sections)


@router.post("/process/url")
async def process_url(form: UrlForm, user: CurrentUser, token: UserToken, session: Session,
                      rt: RuntimeDep, process: bool = True) -> dict[str, Any]:
    """A web page (the only kind owui reads from a URL: a PDF link is refused as such)."""
    loaded = await _load(rt, session, user, form, token, process)
    return {"status": True, "type": "web", "name": form.url, "url": form.url,
            "collection_name": loaded["collection_name"], "content": loaded["content"]}


@router.post("/delete", responses=_NOT_FOUND)
async def delete_entries(form: DeleteForm, user: CurrentUser, session: Session,
                         rt: RuntimeDep) -> dict[str, bool]:
    """A file's entries leave a collection (a knowledge id the caller may write, or the
    file's own `file-<id>`, which only its owner may empty)."""
    file = await file_for(session, user, form.file_id)
    if form.collection_name.startswith(FILE_PREFIX):
        if form.collection_name != file_key(file.id):
            raise HTTPException(404, f"Collection '{form.collection_name}' not found.")
        await file_for(session, user, form.file_id, write=True)
        collection = form.collection_name
    else:
        collection = (await knowledge_for(session, user, form.collection_name, write=True)).id
    removed = await rt.store.delete(collection=collection, file_id=file.id)
    return {"status": removed > 0}


@router.post("/reset/db")
async def reset_vectors(user: AdminUser, session: Session, rt: RuntimeDep) -> dict[str, bool]:
    """Admin only: every collection and every vector goes; files stay, as uploaded but not
    processed (adding one to a collection processes it again)."""
    for knowledge in (await session.scalars(select(Knowledge))).all():
        await rt.store.delete(collection=knowledge.id)
        await crud.replace_grants(session, "knowledge", knowledge.id, [])
        await session.delete(knowledge)
    for file in (await session.scalars(select(File))).all():
        await rt.store.delete(file_id=file.id)
    await session.execute(update(File).values(status="stored", job_id=None))
    await session.commit()
    return {"status": True}


@router.post("/reset/uploads")
async def reset_uploads(user: AdminUser, session: Session, rt: RuntimeDep) -> bool:
    """Admin only: every uploaded file, its bytes and its vectors."""
    for file in (await session.scalars(select(File))).all():
        await delete_file(rt, session, file)
    return True
