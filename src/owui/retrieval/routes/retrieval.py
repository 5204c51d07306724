"""Open WebUI's retrieval endpoints (query/doc, query/collection, process/text,
process/web/search), our search with sources, the RAG context, and ingestion jobs."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.auth import CurrentUser, UserToken
from owui.core.errors import not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.retrieval import crud
from owui.retrieval.access import file_keys, named_key, resolve
from owui.retrieval.external import split
from owui.retrieval.extract import Section
from owui.retrieval.groups import GROUPS
from owui.retrieval.models import Collection
from owui.retrieval.rag import build, last_user_message
from owui.retrieval.runtime import Runtime, RuntimeDep
from owui.retrieval.schemas import (
    DeleteTextForm,
    ProcessTextForm,
    QueryCollectionsForm,
    QueryDocForm,
    QueryForm,
    RagForm,
    SearchForm,
    WebSearchForm,
    job_view,
)
from owui.retrieval.search import hit_view, owui_result, pick_mode, search
from owui.retrieval.vectors import Hit
from owui.retrieval.web.service import web_search

router = APIRouter(prefix="/api/v1/retrieval", tags=["retrieval"], dependencies=GROUPS)
_NOT_FOUND = not_found_response("A named collection or file does not exist (or is not yours).")


@router.get("/")
async def status(rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    settings = rt.settings
    engine = settings.embedding_engine or "sentence-transformers"
    return {"status": True, "embedding_engine": engine,
            "embedding_model": rt.embedder.name, "embedding_state": rt.embedder.state,
            "vector_db": rt.store.name, "storage_provider": rt.storage.name,
            "hybrid": settings.enable_rag_hybrid_search, "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap, "top_k": settings.rag_top_k,
            "web_search_engine": settings.web_search_engine}


@router.post("/query/doc", responses=_NOT_FOUND)
async def query_doc(form: QueryDocForm, token: UserToken, user: CurrentUser, session: Session,
                    rt: RuntimeDep) -> dict[str, Any]:
    return await _query(rt, token, session, user, [form.collection_name], form)


@router.post("/query/collection", responses=_NOT_FOUND)
async def query_collection(form: QueryCollectionsForm, token: UserToken, user: CurrentUser,
                           session: Session, rt: RuntimeDep) -> dict[str, Any]:
    return await _query(rt, token, session, user, form.collection_names, form)


async def _query(rt: Runtime, token: str, session: AsyncSession, user: Claims,
                 names: list[str], form: QueryForm) -> dict[str, Any]:
    keys = await resolve(session, user, names)
    hits = await _searched(rt, session, keys, form.query, k=form.k, r=form.r,
                           mode=pick_mode(rt, form.hybrid), token=token)
    return owui_result(hits)


async def _searched(rt: Runtime, session: AsyncSession, keys: list[str], query: str,
                    **options: Any) -> list[Hit]:
    """Search the collections, each where it is: owui's store, or an external source."""
    own, external = await split(session, rt.config.snapshot(), keys)
    return await search(rt, own, query, external=external, **options)


@router.post("/search", responses=_NOT_FOUND)
async def search_sources(form: SearchForm, token: UserToken, user: CurrentUser,
                         session: Session, rt: RuntimeDep) -> dict[str, Any]:
    if not form.collection_names and not form.file_ids:
        raise HTTPException(422, "Name at least one collection in 'collection_names' or file "
                                 "in 'file_ids'.")
    keys = await resolve(session, user, form.collection_names)
    keys += await file_keys(session, user, form.file_ids)
    mode = pick_mode(rt, None, form.mode)
    hits = await _searched(rt, session, keys, form.query, k=form.k, r=form.r, mode=mode,
                           token=token)
    return {"mode": mode, "hits": [hit_view(hit) for hit in hits]}


@router.post("/process/text")
async def process_text(form: ProcessTextForm, token: UserToken, user: CurrentUser,
                       session: Session, rt: RuntimeDep) -> dict[str, Any]:
    name = form.collection_name or hashlib.sha256(form.content.encode()).hexdigest()[:63]
    collection = await _text_collection(session, user, name)
    chunks = await rt.pipeline.chunk([Section(form.content)])
    if not chunks:
        raise HTTPException(422, "The 'content' has no text to index.")
    count = await rt.pipeline.embed_and_store(collection.key, _text_id(form.name), chunks,
                                              {"name": form.name, "source": form.name},
                                              token=token)
    return {"status": True, "collection_name": name, "name": form.name, "chunks": count}


def _text_id(name: str) -> str:
    """A text's document in its collection, by the name it was given (writing the same name
    again replaces it)."""
    return "text-" + hashlib.sha256(name.encode()).hexdigest()[:24]


@router.post("/text/delete", responses=_NOT_FOUND)
async def delete_text(form: DeleteTextForm, user: CurrentUser, session: Session,
                      rt: RuntimeDep) -> dict[str, Any]:
    """Documents leave one of the caller's own text collections (the chat service's memory
    vectors, when a memory is deleted), or the whole collection goes. Only the caller's own:
    text collections are private to the user who wrote them."""
    collection = await crud.get_collection(session, user.sub, form.collection_name)
    if collection is None or collection.kind != "text":
        raise HTTPException(404, f"Text collection '{form.collection_name}' not found.")
    if form.names is None:
        removed = await rt.store.delete(collection=collection.key)
        await session.delete(collection)
        await session.commit()
    else:
        removed = 0
        for name in dict.fromkeys(form.names):
            removed += await rt.store.delete(collection=collection.key, file_id=_text_id(name))
    return {"status": True, "collection_name": form.collection_name, "removed": removed}


async def _text_collection(session: Session, user: Claims, name: str) -> Collection:
    found = await crud.get_collection(session, user.sub, name)
    if found is None:
        found = Collection(key=named_key("text", user.sub, name), user_id=user.sub, name=name,
                           kind="text")
        session.add(found)
        await session.commit()
    return found


@router.post("/process/web/search")
async def process_web_search(form: WebSearchForm, token: UserToken, user: CurrentUser,
                             session: Session, rt: RuntimeDep) -> dict[str, Any]:
    result = await web_search(rt, session, user, form.queries, k=form.k,
                              mode=pick_mode(rt, form.hybrid), token=token)
    return {"status": True, "collection_names": [result.name], "filenames": result.loaded,
            "items": [item.view() for item in result.items], "errors": result.errors,
            "loaded_count": len(result.loaded),
            "docs": [{"content": h.text, "metadata": h.meta, "score": h.score}
                     for h in result.hits]}


@router.post("/rag")
async def rag_context(form: RagForm, token: UserToken, user: CurrentUser, session: Session,
                      rt: RuntimeDep) -> dict[str, Any]:
    query = last_user_message([m.model_dump() for m in form.messages]).strip()
    if not query:
        raise HTTPException(422, "The messages have no user message with text to search for.")
    keys = await resolve(session, user, form.collection_names)
    keys += await file_keys(session, user, form.file_ids)
    if not keys and not form.web_search:
        raise HTTPException(422, "Attach a collection or file, or ask for web_search.")
    mode = pick_mode(rt, form.hybrid)
    hits: list[Hit] = []
    if keys:
        hits = await _searched(rt, session, keys, query, k=form.k, r=form.r, mode=mode,
                               token=token)
    if form.web_search:
        found = await web_search(rt, session, user, [query], k=form.k, mode=mode, token=token)
        hits = sorted([*hits, *found.hits], key=lambda h: h.score, reverse=True)
    template = rt.config.get("RAG_TEMPLATE") or ""
    return {"mode": mode, **build(query, hits[:form.k or rt.settings.rag_top_k], template)}


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, user: CurrentUser, session: Session) -> dict[str, Any]:
    job = await crud.get_job(session, job_id)
    if job is None or not (user.is_admin or job.user_id == user.sub):
        raise HTTPException(404, f"Job '{job_id}' not found.")
    return job_view(job)
