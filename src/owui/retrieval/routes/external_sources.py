"""Knowledge collections on external sources (Open WebUI 0.12): a source tested (with a new or
a stored connection), a collection made on a stored connection, or a connection and its
collection made together (`source/create`, after a test query found something) and changed
together (`source/{id}`), and a stored connection's retrieval tried (`retrieve-test`).
Admin-only, as in Open WebUI. A failed test stores nothing: the store unreachable is 502 and
slow 504, both naming its endpoint; a test that finds nothing is 400."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from owui.core.auth import AdminUser, UserToken
from owui.core.errors import BadRequestError, not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.retrieval import crud
from owui.retrieval.external import (
    MAX_COUNT,
    Target,
    external_meta,
    is_external,
    normalized_source,
    retrieve,
    view,
)
from owui.retrieval.models import Knowledge
from owui.retrieval.routes.common import full_view
from owui.retrieval.routes.external import (
    ConnectionForm,
    add_connection,
    changed_connection,
    new_connection,
    one,
    remove_connection,
    replace_connection,
)
from owui.retrieval.runtime import Runtime, RuntimeDep
from owui.retrieval.schemas import GrantForm

router = APIRouter(prefix="/api/v1/knowledge/external", tags=["knowledge"])
Count = Field(5, ge=1, le=MAX_COUNT)
Query = Field(max_length=10_000)
_NOT_FOUND = not_found_response("No external connection (or collection on one) of this id.")
# retrieve-test without a source: Open WebUI's placeholder (a Qdrant-shaped payload).
TEST_SOURCE = {"type": "collection", "name": "test", "config": {"content_field": "payload.text"}}


class SourceForm(BaseModel):
    type: str = Field("collection", max_length=32)
    name: str = Field(max_length=255)
    config: dict[str, Any] | None = None


class KnowledgeOnConnectionForm(BaseModel):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=10_000)
    connection_id: str = Field(max_length=64)
    source: SourceForm
    access_grants: list[GrantForm] | None = None


class SourceWithConnectionForm(BaseModel):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=10_000)
    connection: ConnectionForm
    source: SourceForm
    access_grants: list[GrantForm] | None = None
    test_query: str = Query
    test_count: int = Count


class SourceTestForm(BaseModel):
    connection_id: str | None = Field(None, max_length=64)
    connection: ConnectionForm
    source: SourceForm
    query: str = Query
    count: int = Count


class RetrieveTestForm(BaseModel):
    query: str = Query
    source: SourceForm | None = None
    count: int = Count


async def _tried(rt: Runtime, token: str, connection: dict[str, Any], source: dict[str, Any],
                 query: str, count: int) -> dict[str, Any]:
    """The query embedded here and searched in the source: Open WebUI's test answer."""
    if not query.strip():
        raise BadRequestError("Test query is required.")
    vector = await rt.embedder.embed_query(query.strip(), token=token)
    target = Target("external-test", str(connection.get("name") or ""), connection, source)
    return view(await retrieve(rt.http, target, vector.tolist(), count))


async def _found(rt: Runtime, token: str, connection: dict[str, Any], source: dict[str, Any],
                 query: str, count: int) -> None:
    if not (await _tried(rt, token, connection, source, query, count))["documents"]:
        raise BadRequestError("Test query returned no results: check the collection name and "
                              "its content field, or try another query.")


def _source(form: SourceForm, connection: dict[str, Any]) -> dict[str, Any]:
    return normalized_source(form.model_dump(), str(connection.get("provider")))


def _name(name: str) -> str:
    if not name.strip():
        raise BadRequestError("Knowledge name is required.")
    return name.strip()


def _grants(grants: list[GrantForm] | None) -> list[dict[str, str]]:
    unique = {(g.principal_type, g.principal_id, g.permission): g for g in grants or []}
    return [g.model_dump() for g in unique.values()]


async def _made(session: Session, user: Claims, name: str, description: str,
                grants: list[GrantForm] | None, meta: dict[str, Any]) -> dict[str, Any]:
    knowledge = Knowledge(user_id=user.sub, name=name, description=description, meta=meta)
    session.add(knowledge)
    await session.flush()
    await crud.replace_grants(session, "knowledge", knowledge.id, _grants(grants))
    await session.commit()
    return await full_view(session, user, knowledge)


@router.post("/source/test", responses=_NOT_FOUND)
async def test_source(form: SourceTestForm, user: AdminUser, token: UserToken,
                      rt: RuntimeDep) -> dict[str, Any]:
    """A source searched before it is saved: with a new connection, or a stored one changed
    as the form says (its secrets kept when the form sends none)."""
    if form.connection_id:
        connection = changed_connection(form.connection, one(rt, form.connection_id)[1])
    else:
        connection = {**new_connection(form.connection, user.sub), "id": "external-test"}
    return await _tried(rt, token, connection, _source(form.source, connection), form.query,
                        form.count)


@router.post("/connections/{connection_id}/retrieve-test", responses=_NOT_FOUND)
async def retrieve_test(connection_id: str, form: RetrieveTestForm, user: AdminUser,
                        token: UserToken, rt: RuntimeDep) -> dict[str, Any]:
    connection = one(rt, connection_id)[1]
    source = form.source.model_dump() if form.source else TEST_SOURCE
    return await _tried(rt, token, connection,
                        normalized_source(source, str(connection.get("provider"))),
                        form.query, form.count)


@router.post("/knowledge/create", responses=_NOT_FOUND)
async def create_on_connection(form: KnowledgeOnConnectionForm, user: AdminUser,
                               session: Session, rt: RuntimeDep) -> dict[str, Any]:
    """A collection on a stored connection (no test query: Open WebUI makes none here)."""
    connection = one(rt, form.connection_id)[1]
    name = _name(form.name)
    source = _source(form.source, connection)
    return await _made(session, user, name, form.description, form.access_grants,
                       external_meta(connection, source))


@router.post("/source/create")
async def create_source(form: SourceWithConnectionForm, user: AdminUser, token: UserToken,
                        session: Session, rt: RuntimeDep) -> dict[str, Any]:
    """A new connection and a collection on it, once a test query finds something."""
    name = _name(form.name)
    connection = new_connection(form.connection, user.sub)
    source = _source(form.source, connection)
    await _found(rt, token, connection, source, form.test_query, form.test_count)
    await add_connection(rt, connection)
    try:
        return await _made(session, user, name, form.description, form.access_grants,
                           external_meta(connection, source))
    except BaseException:  # nothing half-stored: the connection goes with the collection
        await remove_connection(rt, str(connection["id"]))
        raise


@router.patch("/source/{knowledge_id}", responses=_NOT_FOUND)
async def update_source(knowledge_id: str, form: SourceWithConnectionForm, user: AdminUser,
                        token: UserToken, session: Session, rt: RuntimeDep) -> dict[str, Any]:
    """The collection and its connection changed together, once a test query finds
    something; a collection that is not on an external source is 404."""
    knowledge = await crud.get_knowledge(session, knowledge_id)
    if knowledge is None or not is_external(knowledge):
        raise HTTPException(404, f"External knowledge collection '{knowledge_id}' not found.")
    name = _name(form.name)
    connection_id = str(((knowledge.meta or {}).get("external") or {}).get("connection_id"))
    index, existing = one(rt, connection_id)
    connection = changed_connection(form.connection, existing)
    source = _source(form.source, connection)
    await _found(rt, token, connection, source, form.test_query, form.test_count)
    # The connection first (the live config is written in a session of its own: SQLite
    # takes one writer at a time), put back if the collection cannot be saved.
    await replace_connection(rt, index, connection)
    try:
        knowledge.name, knowledge.description = name, form.description
        knowledge.meta = external_meta(connection, source)
        if form.access_grants is not None:
            await crud.replace_grants(session, "knowledge", knowledge.id,
                                      _grants(form.access_grants))
        await session.commit()
    except BaseException:
        await replace_connection(rt, index, existing)
        raise
    return await full_view(session, user, knowledge)
