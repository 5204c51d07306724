"""Tasks: Open WebUI's `/api/v1/tasks/*/completions` (which wait for the answer, while the job
itself outlives the client) and our `/api/v1/agents/tasks` (start in the background, list, get,
cancel)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy import select

from owui.agent.jobs import error_text
from owui.agent.models import Task
from owui.agent.runs import prepare_run, run_to_end
from owui.agent.runtime import Runtime, RuntimeDep
from owui.agent.schemas import RunForm, TaskForm, validated
from owui.agent.tasks import (
    TaskHandle,
    completion_work,
    create_task,
    finisher,
    task_request,
    task_view,
)
from owui.core.auth import CurrentUser, UserToken
from owui.core.errors import DomainError
from owui.core.service import Session
from owui.core.tokens import Claims

router = APIRouter(tags=["tasks"])
Kind = Literal["title", "tags", "follow_up", "queries"]


async def _start(runtime: Runtime, user: Claims, token: str, kind: str, body: dict[str, Any],
                 session: Any) -> tuple[Task, asyncio.Task[Exception | None]]:
    # Everything is checked before the task is stored: a bad request leaves no task behind.
    form = validated(RunForm, {**body, "stream": False}, "body") if kind == "run" else None
    prepared = await prepare_run(runtime, session, user, token, form) if form else None
    request = None if form else task_request(kind, body, runtime.settings.task_model)
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


@router.post("/api/v1/tasks/{kind}/completions",
             summary="Open WebUI's task (title, tags, follow_up, queries): the completion")
async def completion(kind: Kind, runtime: RuntimeDep, user: CurrentUser, token: UserToken,
                     session: Session, form: dict[str, Any] = Body(...),
                     background: bool = False) -> Any:
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


@router.post("/api/v1/agents/tasks", status_code=202, summary="Start a task in the background")
async def start(form: TaskForm, runtime: RuntimeDep, user: CurrentUser, token: UserToken,
                session: Session) -> dict[str, Any]:
    task, _job = await _start(runtime, user, token, form.kind, form.body, session)
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
