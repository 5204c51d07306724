"""Code execution: `/api/v1/agents/code/*` and Open WebUI's `/api/v1/utils/code/execute`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException

from owui.agent.runtime import RuntimeDep
from owui.agent.sandbox.pool import Outcome
from owui.agent.schemas import CodeForm
from owui.core.auth import CurrentUser
from owui.core.errors import error_response

router = APIRouter(tags=["code"])
_EXECUTE_ERRORS = {408: error_response("The code ran past its time limit and was stopped."),
                   409: error_response("The code session was closed meanwhile.")}


def outcome_view(outcome: Outcome) -> dict[str, Any]:
    reply = outcome.reply
    return {"session_id": outcome.session_id,
            "status": "error" if reply.get("error") else "ok",
            "stdout": reply.get("stdout", ""), "stderr": reply.get("stderr", ""),
            "result": reply.get("result"), "images": reply.get("images", []),
            "error": reply.get("error"),
            "truncated": bool(reply.get("stdout_truncated") or reply.get("stderr_truncated")),
            "cold": outcome.cold, "duration_ms": round(outcome.duration_ms, 2)}


@router.post("/api/v1/agents/code/execute", summary="Run Python in a sandboxed session",
             responses=_EXECUTE_ERRORS)
async def execute(form: CodeForm, runtime: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    outcome = await runtime.kernels.execute(user.sub, form.session_id, form.code, form.timeout)
    return outcome_view(outcome)


@router.post("/api/v1/utils/code/execute", summary="Run Python (Open WebUI's shape)",
             responses=_EXECUTE_ERRORS)
async def execute_owui(form: CodeForm, runtime: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    outcome = await runtime.kernels.execute(user.sub, form.session_id, form.code, form.timeout)
    view = outcome_view(outcome)
    return {key: view[key] for key in ("stdout", "stderr", "result", "images", "session_id")}


@router.get("/api/v1/agents/code/sessions", summary="The caller's code sessions")
async def sessions(runtime: RuntimeDep, user: CurrentUser) -> list[dict[str, Any]]:
    now = time.monotonic()
    return [{"session_id": k.key[1], "created_at": int(k.created_at),
             "idle_seconds": round(now - k.last_used, 1), "busy": k.busy,
             "executions": k.executions} for k in runtime.kernels.sessions_of(user.sub)]


@router.delete("/api/v1/agents/code/sessions/{session_id}", summary="Stop a code session")
async def close(session_id: str, runtime: RuntimeDep, user: CurrentUser) -> dict[str, bool]:
    if not await runtime.kernels.close_session(user.sub, session_id):
        raise HTTPException(404, f"Code session '{session_id}' not found.")
    return {"closed": True}
