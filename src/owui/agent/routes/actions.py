"""Open WebUI's `POST /api/chat/actions/{action_id}`: the Action button under an answer. The
gateway routes this one path under `/api/chat` to the agent service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from owui.agent.actions import run_action
from owui.agent.runtime import RuntimeDep
from owui.agent.schemas import ActionForm
from owui.core.auth import CurrentUser, UserToken
from owui.core.service import Session

router = APIRouter(tags=["actions"])


@router.post("/api/chat/actions/{action_id}", summary="Run an action on a message (the "
             "action's own answer)")
async def chat_action(action_id: str, form: ActionForm, runtime: RuntimeDep, user: CurrentUser,
                      token: UserToken, session: Session) -> Any:
    result, _events = await run_action(runtime, session, user, token, action_id, form)
    return result
