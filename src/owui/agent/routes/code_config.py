"""Open WebUI's `/api/v1/configs/code_execution` (Admin Panel > Settings > Code Execution),
served by the agent service, which runs the code; and what every page needs of it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from owui.agent.live import CODE_KEYS, CodeExecutionConfigForm, part, public_code, update_code
from owui.agent.runtime import RuntimeDep
from owui.core.auth import AdminUser, CurrentUser

router = APIRouter(prefix="/api/v1/configs/code_execution", tags=["configs"])


@router.get("", summary="The code execution settings (admin)")
async def get_code_config(user: AdminUser, runtime: RuntimeDep) -> dict[str, Any]:
    return part(runtime.config, CODE_KEYS)


@router.post("", summary="Change the code execution settings (admin)")
async def set_code_config(form: CodeExecutionConfigForm, user: AdminUser,
                          runtime: RuntimeDep) -> dict[str, Any]:
    return await update_code(runtime.config, form)


@router.get("/public", summary="Whether code runs and where, for every page (/api/config's "
            "`code` and its two feature switches)")
async def public(user: CurrentUser, runtime: RuntimeDep) -> dict[str, Any]:
    return public_code(runtime.config)
