"""`/api/v1/agents`: the run loop, the models that pipes add, the tools a caller can use, and
actions on a message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from owui.agent import crud
from owui.agent.actions import run_action
from owui.agent.pipelines import pipe_models
from owui.agent.routes.common import AccessDep, tool_entry
from owui.agent.runs import events_of, prepare_run, run_to_end, sse_stream
from owui.agent.runtime import RuntimeDep
from owui.agent.schemas import ActionForm, RunForm
from owui.agent.tools.builtin import BUILTINS
from owui.agent.tools.registry import load_tool, tool_functions
from owui.core.auth import CurrentUser, UserToken
from owui.core.errors import DomainError, not_found_response
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])


@router.post("/run", summary="Run the agent loop (SSE events when stream is true)",
             responses=not_found_response("No connection serves the model."))
async def run(form: RunForm, runtime: RuntimeDep, user: CurrentUser, token: UserToken,
              access: AccessDep, session: Session) -> Any:
    prepared = await prepare_run(runtime, session, user, token, form, access)
    await session.close()  # the run needs no database: give the connection back now
    owns_session = form.session_id is None
    if not form.stream:
        return await run_to_end(runtime, prepared, owns_session)
    events = events_of(runtime, prepared, owns_session)
    try:
        first = await anext(events)  # errors before the first event keep their status
    except BaseException:
        await events.aclose()
        raise
    return StreamingResponse(sse_stream(first, events), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/models", summary="Pipes, as models")
async def models(runtime: RuntimeDep, user: CurrentUser, session: Session) -> dict[str, Any]:
    return {"object": "list", "data": await pipe_models(session, runtime.plugins)}


@router.get("/tools", summary="The tools the caller can enable: built-in and users' tools")
async def tools(runtime: RuntimeDep, user: AccessDep, session: Session) -> list[dict[str, Any]]:
    found = [{"id": name, "name": name, "kind": "builtin", "specs": [tool.spec.openai()]}
             for name, tool in BUILTINS.items()]
    for row in await crud.tools_of(session, user):
        try:
            specs = [f.spec.openai() for f in tool_functions(load_tool(runtime.plugins, row))]
        except DomainError:  # a source that no longer loads: the specs stored with it
            specs = row.specs
        found.append({**tool_entry(row), "kind": "user", "specs": specs})
    return found


@router.post("/actions/{action_id}", summary="Run an action function on a message")
async def action(action_id: str, form: ActionForm, runtime: RuntimeDep, user: CurrentUser,
                 token: UserToken, session: Session) -> dict[str, Any]:
    result, events = await run_action(runtime, session, user, token, action_id, form)
    return {"id": action_id, "result": result, "events": events}
