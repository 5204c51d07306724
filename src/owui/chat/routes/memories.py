"""`/api/v1/memories`, as Open WebUI 0.12: Settings > Personalization (add, edit, delete, delete
all, list), the memory query a turn makes (`/query`), and Open WebUI's memory tools (`/update`,
`/search`, `/paths`, `/path`). The rows are the chat service's; their vectors are the retrieval
service's (clients/retrieval.py), written after the row is checked and before it is committed:
a memory whose vectors could not be written is not stored; a memory's vectors are removed
before its row is (a memory whose vectors could not be removed stays)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from owui.chat.clients.retrieval import RetrievalClient
from owui.chat.crud import memories as rows
from owui.chat.models import Memory
from owui.chat.responses import Json
from owui.chat.turns.memories import nearest
from owui.core.access import require_permission
from owui.core.auth import CurrentUser, UserToken
from owui.core.config import Settings
from owui.core.errors import NotFoundError, not_found_response
from owui.core.service import Session
from owui.core.tokens import Claims

# Open WebUI's `features.memories` permission, on every route (admins have every permission).
router = APIRouter(prefix="/api/v1/memories", tags=["memories"],
                   dependencies=[Depends(require_permission("features.memories"))])
_NOT_FOUND = not_found_response("No memory of this id (or not yours).")
Kind = Literal["user", "context"]
Scope = Literal["user", "context", "all"]
Text = Annotated[str, Field(max_length=100_000)]  # checked against the limit below (413)


class AddMemoryForm(BaseModel):
    content: Text
    type: Kind = "context"
    path: str | None = Field(None, max_length=10_000)


class MemoryUpdateModel(BaseModel):
    content: Text | None = None
    type: Kind | None = None
    path: str | None = Field(None, max_length=10_000)


class QueryMemoryForm(BaseModel):
    content: str = Field(min_length=1, max_length=10_000)
    k: int | None = Field(1, ge=1, le=100)


class MemoryOperationModel(BaseModel):
    action: Literal["add", "replace", "remove", "move"]
    id: str | None = Field(None, max_length=64)
    content: Text | None = None
    type: Kind | None = None
    path: str | None = Field(None, max_length=10_000)


class UpdateMemoriesForm(BaseModel):
    operations: list[MemoryOperationModel] = Field(min_length=1, max_length=100)
    source: Literal["tool", "background_review"] | None = None


class SearchMemoriesForm(BaseModel):
    query: str | None = Field(None, max_length=10_000)
    type: Scope = "all"
    path: str | None = Field(None, max_length=10_000)
    memory_id: str | None = None
    limit: int = Field(20, ge=1, le=1000)


class ListMemoryPathsForm(BaseModel):
    query: str | None = Field(None, max_length=10_000)
    type: Scope = "all"
    limit: int = Field(100, ge=1, le=1000)


class ReadMemoryPathForm(BaseModel):
    path: str = Field(max_length=10_000)
    type: Scope = "all"
    include_children: bool = True
    limit: int = Field(50, ge=1, le=1000)


def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _embed(request: Request, token: str, memory: Memory) -> None:
    await RetrievalClient(_settings(request)).put(token, memory.user_id, memory.id,
                                                  rows.vector_text(memory))


async def _forget(request: Request, token: str, user_id: str, ids: list[str] | None) -> None:
    """The vectors of these memories (None: all of the user's) leave retrieval."""
    await RetrievalClient(_settings(request)).remove(token, user_id, ids)


@router.get("/")
async def list_memories(session: Session, user: CurrentUser) -> Json:
    return Json([rows.memory_model(m) for m in await rows.of_user(session, user.sub)])


@router.post("/add")
async def add_memory(form: AddMemoryForm, request: Request, session: Session,
                     user: CurrentUser, token: UserToken) -> Json:
    memory = rows.add(session, user.sub, rows.clean_content(form.content), form.type,
                      rows.clean_path(form.path), {"created_by": "manual"})
    await _embed(request, token, memory)
    await session.commit()
    return Json(rows.memory_model(memory))


@router.post("/{memory_id}/update", responses=_NOT_FOUND)
async def update_memory(memory_id: str, form: MemoryUpdateModel, request: Request,
                        session: Session, user: CurrentUser, token: UserToken) -> Json:
    if form.content is None and form.type is None and form.path is None:
        raise rows.BadMemory("Nothing to change: give 'content', 'type' or 'path'.")
    content = rows.clean_content(form.content) if form.content is not None else None
    memory = await rows.require(session, memory_id, user.sub)
    rows.change(memory, content, form.type, rows.clean_path(form.path), form.path is not None,
                {"created_by": "manual"})
    if form.content is not None or form.path is not None:
        await _embed(request, token, memory)
    await session.commit()
    return Json(rows.memory_model(memory))


@router.post("/query", responses=not_found_response("The user has no memories."))
async def query_memories(form: QueryMemoryForm, request: Request, session: Session,
                         user: CurrentUser, token: UserToken) -> Json:
    """The memories nearest the text, as Open WebUI answers (one inner list per query)."""
    memories = await rows.of_user(session, user.sub)
    if not memories:
        raise NotFoundError("No memories found for user")
    found = await nearest(_settings(request), token, user.sub, form.content, memories,
                          form.k or 1)
    return Json({"ids": [[m.id for m, _ in found]],
                 "documents": [[m.content for m, _ in found]],
                 "metadatas": [[{"created_at": m.created_at, "updated_at": m.updated_at,
                                 "type": m.type, "path": m.path} for m, _ in found]],
                 "distances": [[score for _, score in found]]})


@router.post("/search")
async def search_memories(form: SearchMemoriesForm, session: Session,
                          user: CurrentUser) -> Json:
    found = rows.search(await rows.of_user(session, user.sub), form.query, form.path,
                        form.memory_id, form.type, form.limit)
    return Json([rows.memory_model(m) for m in found])


@router.post("/paths")
async def memory_paths(form: ListMemoryPathsForm, session: Session, user: CurrentUser) -> Json:
    return Json(rows.path_groups(await rows.of_user(session, user.sub), form.query, form.type,
                                 form.limit))


@router.post("/path")
async def memory_path(form: ReadMemoryPathForm, session: Session, user: CurrentUser) -> Json:
    found = rows.read_path(await rows.of_user(session, user.sub), form.path, form.type,
                           form.include_children, form.limit)
    return Json({**found, "memories": [{k: v for k, v in rows.memory_model(m).items()
                                        if k != "meta"} for m in found["memories"]]})


async def _reembed(request: Request, session: Session, user: Claims, token: str) -> int:
    """The collection emptied, then each row written again: it holds the rows, no more (the
    vectors of memories deleted before deletes removed them go too)."""
    memories = await rows.of_user(session, user.sub)
    await _forget(request, token, user.sub, None)
    for memory in memories:
        await _embed(request, token, memory)
    return len(memories)


@router.post("/reset", response_model=bool,
             summary="The caller's memory vectors written again from the rows")
async def reset_memories(request: Request, session: Session, user: CurrentUser,
                         token: UserToken) -> Json:
    await _reembed(request, session, user, token)
    return Json(True)


@router.post("/reindex", summary="As reset, answered as Open WebUI's reindex (the caller's own "
                                 "memories: vectors are written with the owner's token)")
async def reindex_memories(request: Request, session: Session, user: CurrentUser,
                           token: UserToken) -> Json:
    count = await _reembed(request, session, user, token)
    return Json({"status": True, "total_users": 1, "total_memories": count})


@router.delete("/delete/user", response_model=bool)
async def delete_all_memories(request: Request, session: Session, user: CurrentUser,
                              token: UserToken) -> Json:
    await _forget(request, token, user.sub, None)
    await rows.remove_all(session, user.sub)
    await session.commit()
    return Json(True)


@router.delete("/{memory_id}", response_model=bool, responses=_NOT_FOUND)
async def delete_memory(memory_id: str, request: Request, session: Session, user: CurrentUser,
                        token: UserToken) -> Json:
    memory = await rows.require(session, memory_id, user.sub)
    await _forget(request, token, user.sub, [memory.id])
    await session.delete(memory)
    await session.commit()
    return Json(True)


@router.post("/update", summary="Open WebUI's memory tool: operations applied in order, all "
                                "or none")
async def apply_operations(form: UpdateMemoriesForm, request: Request, session: Session,
                           user: CurrentUser, token: UserToken) -> Json:
    meta = {"created_by": form.source or "tool"}
    results: list[dict[str, Any]] = []
    changed: list[Memory] = []
    for op in form.operations:
        result, memory = await _operation(session, user, op, meta)
        results.append(result)
        if memory is not None and op.action != "remove":
            changed.append(memory)
    removed = [r["id"] for r in results if r["status"] == "deleted"]
    await _forget(request, token, user.sub, removed)
    for memory in changed:
        if memory.id not in removed:  # added or changed, then removed in the same call
            await _embed(request, token, memory)
    await session.commit()
    return Json(results)


async def _operation(session: Session, user: Claims, op: MemoryOperationModel,
                     meta: dict[str, Any]) -> tuple[dict[str, Any], Memory | None]:
    if op.action == "add":
        memory = rows.add(session, user.sub, rows.clean_content(op.content), op.type,
                          rows.clean_path(op.path), meta)
        await session.flush()
        return _result(op.action, "created", memory), memory
    if not op.id:
        raise rows.BadMemory(f"A memory id is needed to {op.action} a memory.")
    memory = await rows.require(session, op.id, user.sub)
    if op.action == "remove":
        await session.delete(memory)
        return {"action": op.action, "status": "deleted", "id": op.id}, None
    content = rows.clean_content(op.content) if op.action == "replace" else None
    rows.change(memory, content, op.type if op.action == "replace" else None,
                rows.clean_path(op.path), True, meta)
    return _result(op.action, "updated", memory), memory


def _result(action: str, status: str, memory: Memory) -> dict[str, Any]:
    view = {k: v for k, v in rows.memory_model(memory).items() if k != "meta"}
    return {"action": action, "status": status, "id": memory.id, "memory": view}
