"""`/api/v1/agents/workflows`: definitions (JSON, or YAML with a YAML content type), their
runs, each run's steps as they ran, and cancel."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from owui.agent.models import Workflow, WorkflowRun, WorkflowStep
from owui.agent.runtime import RuntimeDep
from owui.agent.workflows.definition import Definition, parse_definition
from owui.agent.workflows.engine import start_run
from owui.core.auth import CurrentUser, UserToken
from owui.core.service import Session
from owui.core.tokens import Claims

router = APIRouter(prefix="/api/v1/agents/workflows", tags=["workflows"])
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
BODY_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description":
                                    "{name, description?, definition: {...} or YAML text}"}},
    "application/yaml": {"schema": {"type": "string"}}}}}


class RunStart(BaseModel):
    inputs: dict[str, Any] = Field(default_factory=dict)


async def _definition(request: Request) -> tuple[Definition, dict[str, Any]]:
    raw = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in YAML_TYPES:
        data = raw.decode(errors="replace")  # parse_definition reads YAML text
    else:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"The body is not valid JSON: {exc}") from None
    if isinstance(data, dict) and "definition" in data:
        given = data["definition"]
        definition = parse_definition(given)
        meta = {"name": data.get("name") or definition.name,
                "description": data.get("description") or definition.description}
    else:
        definition = parse_definition(data)
        meta = {"name": definition.name, "description": definition.description}
    return definition, meta


def _dump(definition: Definition) -> dict[str, Any]:
    return definition.model_dump(mode="json", by_alias=True, exclude_none=True)


def workflow_view(workflow: Workflow) -> dict[str, Any]:
    return {"id": workflow.id, "user_id": workflow.user_id, "name": workflow.name,
            "description": workflow.description, "definition": workflow.definition,
            "created_at": workflow.created_at, "updated_at": workflow.updated_at}


def step_view(step: WorkflowStep) -> dict[str, Any]:
    return {"position": step.position, "step_id": step.step_id, "type": step.type,
            "status": step.status, "output": step.output, "error": step.error,
            "started_at": step.started_at, "finished_at": step.finished_at}


def run_view(run: WorkflowRun, steps: list[WorkflowStep] | None = None) -> dict[str, Any]:
    view = {"id": run.id, "workflow_id": run.workflow_id, "user_id": run.user_id,
            "status": run.status, "inputs": run.inputs, "values": run.values,
            "current_step": run.current_step, "error": run.error,
            "created_at": run.created_at, "updated_at": run.updated_at,
            "finished_at": run.finished_at}
    if steps is not None:
        view["steps"] = [step_view(s) for s in steps]
    return view


async def _workflow(session: Session, user: Claims, workflow_id: str) -> Workflow:
    workflow = await session.get(Workflow, workflow_id)
    if workflow is None or not (user.is_admin or workflow.user_id == user.sub):
        raise HTTPException(404, f"Workflow '{workflow_id}' not found.")
    return workflow


async def _run(session: Session, user: Claims, run_id: str) -> WorkflowRun:
    run = await session.get(WorkflowRun, run_id)
    if run is None or not (user.is_admin or run.user_id == user.sub):
        raise HTTPException(404, f"Workflow run '{run_id}' not found.")
    return run


@router.post("/validate", openapi_extra=BODY_DOC, summary="Check a definition, store nothing")
async def validate(request: Request, user: CurrentUser) -> dict[str, Any]:
    definition, _meta = await _definition(request)
    return {"valid": True, "definition": _dump(definition)}


@router.post("", openapi_extra=BODY_DOC, summary="Create a workflow")
async def create(request: Request, user: CurrentUser, session: Session) -> dict[str, Any]:
    definition, meta = await _definition(request)
    name = (meta.get("name") or "").strip()
    if not name:
        raise HTTPException(422, "The workflow needs a 'name'.")
    workflow = Workflow(user_id=user.sub, name=name[:200],
                        description=meta.get("description") or "",
                        definition=_dump(definition))
    session.add(workflow)
    await session.commit()
    return workflow_view(workflow)


@router.get("", summary="The caller's workflows")
async def list_workflows(user: CurrentUser, session: Session) -> list[dict[str, Any]]:
    rows = await session.scalars(select(Workflow).where(Workflow.user_id == user.sub)
                                 .order_by(Workflow.created_at.desc()))
    return [workflow_view(w) for w in rows]


@router.get("/runs/{run_id}", summary="A run with each of its steps")
async def get_run(run_id: str, user: CurrentUser, session: Session) -> dict[str, Any]:
    run = await _run(session, user, run_id)
    steps = await session.scalars(select(WorkflowStep).where(WorkflowStep.run_id == run_id)
                                  .order_by(WorkflowStep.position))
    return run_view(run, list(steps))


@router.post("/runs/{run_id}/cancel", summary="Stop a run")
async def cancel_run(run_id: str, user: CurrentUser, session: Session,
                     runtime: RuntimeDep) -> dict[str, Any]:
    run = await _run(session, user, run_id)
    if run.status in ("queued", "running"):
        await runtime.jobs.cancel(WorkflowRun, run_id)
    await session.refresh(run)
    return run_view(run)


@router.get("/{workflow_id}")
async def get_workflow(workflow_id: str, user: CurrentUser, session: Session) -> dict[str, Any]:
    return workflow_view(await _workflow(session, user, workflow_id))


@router.post("/{workflow_id}/update", openapi_extra=BODY_DOC, summary="Replace a definition")
async def update_workflow(workflow_id: str, request: Request, user: CurrentUser,
                          session: Session) -> dict[str, Any]:
    workflow = await _workflow(session, user, workflow_id)
    definition, meta = await _definition(request)
    workflow.definition = _dump(definition)
    workflow.name = (meta.get("name") or workflow.name)[:200]
    workflow.description = meta.get("description") or workflow.description
    await session.commit()
    return workflow_view(workflow)


@router.delete("/{workflow_id}")
async def delete_workflow(workflow_id: str, user: CurrentUser, session: Session) -> bool:
    await session.delete(await _workflow(session, user, workflow_id))
    await session.commit()
    return True


@router.post("/{workflow_id}/runs", status_code=202, summary="Start a run")
async def create_run(workflow_id: str, form: RunStart, user: CurrentUser, token: UserToken,
                     session: Session, runtime: RuntimeDep) -> dict[str, Any]:
    workflow = await _workflow(session, user, workflow_id)
    run = await start_run(runtime, user, token, workflow, form.inputs)
    return run_view(run, [])


@router.get("/{workflow_id}/runs", summary="A workflow's runs, newest first")
async def list_runs(workflow_id: str, user: CurrentUser, session: Session) -> list[dict]:
    await _workflow(session, user, workflow_id)
    rows = await session.scalars(select(WorkflowRun).where(
        WorkflowRun.workflow_id == workflow_id).order_by(WorkflowRun.created_at.desc())
        .limit(100))
    return [run_view(r) for r in rows]
