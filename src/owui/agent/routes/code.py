"""Code execution: `/api/v1/agents/code/*` and Open WebUI's `/api/v1/utils/code/execute`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from owui.agent.runtime import RuntimeDep
from owui.agent.sandbox.pool import Outcome
from owui.agent.schemas import CodeForm
from owui.core.auth import AdminUser, CurrentUser
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


def jupyter_view(outcome: Outcome) -> dict[str, Any]:
    """The answer as Open WebUI's Jupyter engine gives it, which its web app shows under a code
    block: text fields, never null; figures as `data:image/png;base64,...` lines of `result`
    after the last expression's value (the app lifts such lines out as images); `images` keeps
    them as a list too, for other clients."""
    reply = outcome.reply
    lines = [reply["result"]] if reply.get("result") is not None else []
    lines += [f"data:image/png;base64,{image}" for image in reply.get("images") or []]
    return {"stdout": reply.get("stdout") or "", "stderr": reply.get("stderr") or "",
            "result": "\n".join(lines).strip(), "images": reply.get("images") or [],
            "session_id": outcome.session_id}


@router.post("/api/v1/utils/code/execute", summary="Run Python (Open WebUI's shape: the code "
             "block's Run and the code interpreter)",
             responses={**_EXECUTE_ERRORS, 403: error_response("Code execution is turned off.")})
async def execute_owui(form: CodeForm, runtime: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    if not runtime.config["ENABLE_CODE_EXECUTION"]:
        raise HTTPException(403, "Code execution is turned off (Admin Panel > Settings > Code "
                                 "Execution).")
    outcome = await runtime.kernels.execute(user.sub, form.session_id, form.code, form.timeout)
    return jupyter_view(outcome)


class FormatForm(BaseModel):
    code: str = Field(max_length=1_000_000)


@router.post("/api/v1/utils/code/format", summary="Check Python source before the editor saves "
             "it (admin); the source comes back as written")
async def format_code(form: FormatForm, user: AdminUser) -> dict[str, str]:
    # Open WebUI reformats with black; owui ships no formatter, so the code is left as the
    # admin wrote it, and a syntax error is named as black would refuse it.
    try:
        compile(form.code, "<editor>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise HTTPException(400, f"Cannot parse: {exc.lineno}:{exc.offset or 0}: "
                                 f"{exc.msg}") from None
    return {"code": form.code}


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
