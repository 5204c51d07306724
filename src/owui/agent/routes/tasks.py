"""Tasks: Open WebUI's `/api/v1/tasks/*/completions` (which wait for the answer, while the job
itself outlives the client) and our `/api/v1/agents/tasks` (start in the background, list, get,
cancel)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select

from owui.agent.jobs import error_text
from owui.agent.live import TASK_KEYS, TaskConfigForm, part, update_tasks
from owui.agent.models import Task
from owui.agent.routes.common import AccessDep
from owui.agent.runs import prepare_run, run_to_end
from owui.agent.runtime import Runtime, RuntimeDep
from owui.agent.schemas import RunForm, TaskForm, validated
from owui.agent.tasks import (
    KINDS,
    TaskHandle,
    completion_work,
    create_task,
    finisher,
    task_request,
    task_view,
)
from owui.core.access import Access
from owui.core.auth import AdminUser, CurrentUser, UserToken
from owui.core.errors import DomainError, InvalidError
from owui.core.service import Session
from owui.core.tokens import Claims

router = APIRouter(tags=["tasks"])
# The admin's prompt for each kind (Open WebUI's task settings); empty: ours.
TEMPLATE_KEYS = {"title": "TITLE_GENERATION_PROMPT_TEMPLATE",
                 "tags": "TAGS_GENERATION_PROMPT_TEMPLATE",
                 "follow_up": "FOLLOW_UP_GENERATION_PROMPT_TEMPLATE",
                 "queries": "QUERY_GENERATION_PROMPT_TEMPLATE",
                 "image_prompt": "IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE",
                 "auto": "AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE"}
# Turned off: Open WebUI answers 200 with a detail for these...
QUIET_SWITCHES = {"title": ("ENABLE_TITLE_GENERATION", "Title generation is disabled"),
                  "tags": ("ENABLE_TAGS_GENERATION", "Tags generation is disabled"),
                  "follow_up": ("ENABLE_FOLLOW_UP_GENERATION",
                                "Follow-up generation is disabled")}


async def _start(runtime: Runtime, user: Claims, token: str, kind: str, body: dict[str, Any],
                 session: Any, access: Access | None = None,
                 ) -> tuple[Task, asyncio.Task[Exception | None]]:
    # Everything is checked before the task is stored: a bad request leaves no task behind.
    form = validated(RunForm, {**body, "stream": False}, "body") if kind == "run" else None
    prepared = await prepare_run(runtime, session, user, token, form, access) if form else None
    config = runtime.config
    request = None if form else task_request(
        kind, body, config["TASK_MODEL"] or runtime.settings.task_model,
        config.get(TEMPLATE_KEYS.get(kind, ""), "") or None)
    task = await create_task(runtime, user, kind, body)
    handle = TaskHandle(runtime, task.id)
    if form is not None and prepared is not None:

        async def work() -> Any:
            return await run_to_end(runtime, prepared, form.session_id is None, handle.progress)
    else:
        work = completion_work(runtime, token, kind, body, request or {}, handle)
    return task, runtime.jobs.launch(Task, task.id, work, finisher(runtime.jobs, task.id))


async def _task_for(runtime: Runtime, user: Claims, task_id: str) -> Task:
    async with runtime.db.sessions() as session:
        task = await session.get(Task, task_id)
    if task is None or not (user.is_admin or task.user_id == user.sub):
        raise HTTPException(404, f"Task '{task_id}' not found.")
    return task


def _raise(error: Exception) -> None:
    if isinstance(error, DomainError):
        raise error
    raise HTTPException(502, f"The task failed: {error_text(error)}")


def _refused(runtime: Runtime, kind: str, form: dict[str, Any]) -> JSONResponse | None:
    """A task the admin turned off: Open WebUI's answer for it (200 or 400)."""
    config = runtime.config
    if kind in QUIET_SWITCHES:
        key, detail = QUIET_SWITCHES[kind]
        return None if config[key] else JSONResponse({"detail": detail})
    if kind == "queries":
        key = ("ENABLE_SEARCH_QUERY_GENERATION" if form.get("type") == "web_search"
               else "ENABLE_RETRIEVAL_QUERY_GENERATION" if form.get("type") == "retrieval"
               else None)
        if key and not config[key]:
            what = "Search query" if key.startswith("ENABLE_SEARCH") else "Query"
            return JSONResponse({"detail": f"{what} generation is disabled"}, 400)
    if kind == "auto":
        if not config["ENABLE_AUTOCOMPLETE_GENERATION"]:
            return JSONResponse({"detail": "Autocompletion generation is disabled"}, 400)
        limit = config["AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH"] or -1
        if limit > 0 and len(str(form.get("prompt") or "")) > limit:
            return JSONResponse({"detail": f"The input is longer than {limit} characters."},
                                400)
    return None


async def _streamed(runtime: Runtime, token: str, kind: str,
                    form: dict[str, Any]) -> StreamingResponse:
    """A task asked for as a stream (the app's merged answer): the model's chunks as SSE."""
    config = runtime.config
    request = task_request(kind, form, config["TASK_MODEL"] or runtime.settings.task_model,
                           config.get(TEMPLATE_KEYS.get(kind, ""), "") or None)
    chunks = runtime.inference.stream(token, request)
    first = await anext(chunks)  # a failure before the first chunk keeps its status

    async def body() -> AsyncIterator[bytes]:
        yield b"data: " + orjson.dumps(first) + b"\n\n"
        async for chunk in chunks:
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
        yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")


def _completion_route(kind: str) -> Callable[..., Awaitable[Any]]:
    async def completion(runtime: RuntimeDep, user: CurrentUser, token: UserToken,
                         session: Session, form: dict[str, Any] = Body(...),
                         background: bool = False) -> Any:
        refused = _refused(runtime, kind, form)
        if refused is not None:
            return refused
        if kind == "moa" and form.get("stream") and not background:
            return await _streamed(runtime, token, kind, form)
        task, job = await _start(runtime, user, token, kind, form, session)
        if background:
            return JSONResponse(task_view(await _task_for(runtime, user, task.id)), 202)
        # Shielded: a client that goes away leaves the job running, and its result stored.
        error = await asyncio.shield(job)
        if error is not None:
            _raise(error)
        done = await _task_for(runtime, user, task.id)
        result = done.result or {}
        return {**result.get("completion", {}), "task_id": task.id,
                **{k: v for k, v in result.items() if k != "completion"}}

    return completion


for _kind in KINDS:
    router.add_api_route(f"/api/v1/tasks/{_kind}/completions", _completion_route(_kind),
                         methods=["POST"], name=f"task_{_kind}",
                         summary=f"Open WebUI's {_kind} task: the completion")


@router.post("/api/v1/tasks/{kind}/completions", summary="A task of a kind there is not",
             responses={422: {"description": "The known kinds are named."}})
async def unknown_task(kind: str, user: CurrentUser) -> None:
    raise InvalidError(f"Unknown task '{kind}': one of {', '.join(KINDS)}.")


@router.get("/api/v1/tasks/config", summary="The task settings")
async def task_config(user: CurrentUser, runtime: RuntimeDep) -> dict[str, Any]:
    return part(runtime.config, TASK_KEYS)


@router.post("/api/v1/tasks/config/update", summary="Change the task settings (admin)")
async def update_task_config(form: TaskConfigForm, user: AdminUser,
                             runtime: RuntimeDep) -> dict[str, Any]:
    return await update_tasks(runtime.config, form)


@router.post("/api/v1/agents/tasks", status_code=202, summary="Start a task in the background")
async def start(form: TaskForm, runtime: RuntimeDep, user: CurrentUser, token: UserToken,
                access: AccessDep, session: Session) -> dict[str, Any]:
    task, _job = await _start(runtime, user, token, form.kind, form.body, session, access)
    return task_view(await _task_for(runtime, user, task.id))


@router.get("/api/v1/agents/tasks", summary="The caller's tasks, newest first")
async def list_tasks(runtime: RuntimeDep, user: CurrentUser, session: Session,
                     status: str | None = None, kind: str | None = None,
                     limit: int = 50) -> list[dict[str, Any]]:
    query = select(Task).where(Task.user_id == user.sub)
    if status:
        query = query.where(Task.status == status)
    if kind:
        query = query.where(Task.kind == kind)
    rows = await session.scalars(query.order_by(Task.created_at.desc())
                                 .limit(max(1, min(limit, 500))))
    return [task_view(t) for t in rows]


@router.get("/api/v1/agents/tasks/{task_id}")
async def get_task(task_id: str, runtime: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    return task_view(await _task_for(runtime, user, task_id))


@router.post("/api/v1/agents/tasks/{task_id}/cancel")
async def cancel(task_id: str, runtime: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    task = await _task_for(runtime, user, task_id)
    if task.status in ("queued", "running"):
        await runtime.jobs.cancel(Task, task_id)
    return task_view(await _task_for(runtime, user, task_id))
