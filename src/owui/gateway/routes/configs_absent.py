"""`/api/v1/configs` pages for what owui does not have: tool servers, terminal servers and
sub-agents. They answer what is true (none, off), so that the admin pages open, and refuse to
turn any on with a 400 that says why; nothing is stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from owui.core.auth import AdminUser

router = APIRouter(prefix="/api/v1/configs", tags=["configs"])


class ToolServersForm(BaseModel):
    TOOL_SERVER_CONNECTIONS: list[dict[str, Any]] = Field(max_length=100)


class TerminalServersForm(BaseModel):
    TERMINAL_SERVER_CONNECTIONS: list[dict[str, Any]] = Field(max_length=100)


class SubagentsForm(BaseModel):
    ENABLE_SUBAGENTS: bool
    SUBAGENTS_BACKGROUND_ENABLED: bool = False
    SUBAGENTS_MAX_CONCURRENT: int = 20
    SUBAGENTS_MAX_ASYNC: int = 20
    SUBAGENTS_MAX_ITERATIONS: int = 30
    SUBAGENTS_MAX_OUTPUT: int = 30000
    SUBAGENTS_SYSTEM_PROMPT: str = ""


def _refuse(what: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST,
                         f"owui does not connect to {what}; tools run in the agent service "
                         f"(Workspace > Tools). Nothing was saved.")


@router.get("/tool_servers", response_model=ToolServersForm)
async def get_tool_servers(_admin: AdminUser) -> ToolServersForm:
    return ToolServersForm(TOOL_SERVER_CONNECTIONS=[])


@router.post("/tool_servers", response_model=ToolServersForm)
async def set_tool_servers(form: ToolServersForm, _admin: AdminUser) -> ToolServersForm:
    if form.TOOL_SERVER_CONNECTIONS:
        raise _refuse("tool servers (OpenAPI or MCP)")
    return form


@router.get("/terminal_servers", response_model=TerminalServersForm)
async def get_terminal_servers(_admin: AdminUser) -> TerminalServersForm:
    return TerminalServersForm(TERMINAL_SERVER_CONNECTIONS=[])


@router.post("/terminal_servers", response_model=TerminalServersForm)
async def set_terminal_servers(form: TerminalServersForm,
                               _admin: AdminUser) -> TerminalServersForm:
    if form.TERMINAL_SERVER_CONNECTIONS:
        raise _refuse("terminal servers")
    return form


@router.get("/subagents", response_model=SubagentsForm)
async def get_subagents(_admin: AdminUser) -> SubagentsForm:
    return SubagentsForm(ENABLE_SUBAGENTS=False)


@router.post("/subagents", response_model=SubagentsForm)
async def set_subagents(form: SubagentsForm, _admin: AdminUser) -> SubagentsForm:
    if form.ENABLE_SUBAGENTS or form.SUBAGENTS_BACKGROUND_ENABLED:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "owui has no sub-agents; they stay off. Nothing was saved.")
    return SubagentsForm(ENABLE_SUBAGENTS=False)
