"""Open WebUI's `/api/v1/tools`: users' Python tools. Creating or changing one runs code on the
server, so only admins and holders of the `workspace.tools` permission may (a tool they own or
hold a write grant on); users see the tools granted to them (or their groups) and set their own
valves."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import crud, history
from owui.agent.models import PluginVersion, Tool
from owui.agent.plugins.loaded import Loaded, load
from owui.agent.plugins.remote import fetch_source
from owui.agent.routes.common import (
    AccessDep,
    forbidden,
    grants,
    meta_of,
    tool_access,
    tool_entry,
    tool_model,
)
from owui.agent.routes.history import add_history_routes
from owui.agent.routes.valves import add_valves_routes
from owui.agent.runtime import Runtime, RuntimeDep
from owui.agent.schemas import AccessGrantsForm, LoadUrlForm, ToolForm
from owui.agent.tools.builtin import BUILTINS
from owui.agent.tools.registry import load_tool, tool_functions
from owui.core.access import Access, permission_denied, require_permission
from owui.core.auth import AdminUser, CurrentUser
from owui.core.service import Session
from owui.core.sharing import check_sharing
from owui.core.tokens import Claims

router = APIRouter(prefix="/api/v1/tools", tags=["tools"])
ToolsPermission = Annotated[Access, Depends(require_permission("workspace.tools"))]


async def writable(session: AsyncSession, access: Access, tool_id: str) -> Tool:
    """The tool, for a caller who may change it: 404 when they cannot see it, else 403."""
    tool = await crud.tool_for(session, access, tool_id)
    if not crud.can_write_tool(access, tool):
        raise forbidden(f"the tool '{tool_id}'")
    return tool


def _checked(form: ToolForm) -> tuple[Loaded, list[dict[str, Any]]]:
    """Load the source (400 naming the line when it fails) and make its specs."""
    loaded = load("tool", form.id, form.content, 0.0)
    specs = [f.spec.openai() for f in tool_functions(loaded)]
    if not specs:
        raise HTTPException(400, "The tool's class Tools has no public method to offer.")
    for spec in specs:
        if spec["name"] in BUILTINS:
            raise HTTPException(400, f"The method '{spec['name']}' has the name of a built-in "
                                     "tool; rename it.")
    return loaded, specs


@router.get("/", summary="The tools the caller can use")
async def list_tools(access: AccessDep, session: Session) -> list[dict[str, Any]]:
    return [{**tool_entry(t), "user": None} for t in await crud.tools_of(session, access)]


@router.get("/list", summary="The tools the caller can use, with write access")
async def list_with_access(access: AccessDep, session: Session) -> list[dict[str, Any]]:
    return [{**tool_entry(t), "user": None, "write_access": crud.can_write_tool(access, t)}
            for t in await crud.tools_of(session, access)]


@router.get("/export", summary="The tools the caller may change, with their source")
async def export_tools(access: AccessDep, session: Session) -> list[dict[str, Any]]:
    if not access.allows("workspace.tools_export"):
        raise permission_denied("workspace.tools_export")
    return [tool_model(t) for t in await crud.tools_of(session, access)
            if crud.can_write_tool(access, t)]


@router.post("/load/url", summary="A tool's source read from a URL, for the editor (admin)")
async def load_from_url(form: LoadUrlForm, user: AdminUser, request: Request
                        ) -> dict[str, str]:
    return await fetch_source(request.app.state.http, form.url, "tool")


@router.post("/create", summary="Create a tool from Python source (admin)")
async def create_tool(form: ToolForm, user: CurrentUser, access: ToolsPermission,
                      session: Session, runtime: RuntimeDep) -> dict[str, Any]:
    if await session.get(Tool, form.id) is not None:
        raise HTTPException(409, f"A tool with the id '{form.id}' already exists.")
    loaded, specs = _checked(form)
    check_sharing(form.access_grants, access, "tools")
    tool = Tool(id=form.id, user_id=user.sub, name=form.name, content=form.content,
                specs=specs, meta=meta_of(form.meta, form.content, loaded), valves={},
                access_grants=grants(form.id, form.access_grants))
    session.add(tool)
    history.record(session, "tool", tool, user, None, form.commit_message)
    await session.commit()
    runtime.model_tools.invalidate()
    return tool_entry(tool)


@router.get("/id/{tool_id}")
async def get_tool(tool_id: str, access: AccessDep, session: Session) -> dict[str, Any]:
    tool = await crud.tool_for(session, access, tool_id)
    return tool_access(tool, crud.can_write_tool(access, tool))


async def _save(session: AsyncSession, runtime: Runtime, user: Claims, tool: Tool,
                form: ToolForm, version: PluginVersion | None = None) -> dict[str, Any]:
    """The tool replaced by `form` (checked first: nothing is stored when it does not load);
    a new version unless `version` (the saved one put back into production) is given."""
    loaded, specs = _checked(form.model_copy(update={"id": tool.id}))
    before = history.snapshot_of("tool", tool)
    tool.name, tool.content, tool.specs = form.name, form.content, specs
    tool.meta = meta_of(form.meta, form.content, loaded)
    if form.access_grants is not None:
        tool.access_grants = grants(tool.id, form.access_grants)
    if version is None:
        history.record(session, "tool", tool, user, before, form.commit_message)
    else:
        tool.version_id = version.id
    crud.touch(tool)
    await session.commit()
    runtime.plugins.forget("tool", tool.id)
    runtime.model_tools.invalidate()
    return tool_model(tool)


@router.post("/id/{tool_id}/update", summary="Replace a tool's source")
async def update_tool(tool_id: str, form: ToolForm, user: CurrentUser, access: AccessDep,
                      session: Session, runtime: RuntimeDep) -> dict[str, Any]:
    tool = await writable(session, access, tool_id)
    check_sharing(form.access_grants, access, "tools", current=tool.access_grants)
    return await _save(session, runtime, user, tool, form)


async def _restore(session: AsyncSession, runtime: Runtime, user: Claims, tool: Tool,
                   version: PluginVersion) -> dict[str, Any]:
    form = ToolForm.model_validate({"id": tool.id, **version.snapshot})
    return await _save(session, runtime, user, tool, form, version)


@router.post("/id/{tool_id}/access/update", summary="Who may use a tool")
async def update_access(tool_id: str, form: AccessGrantsForm, access: AccessDep,
                        session: Session, runtime: RuntimeDep) -> dict[str, Any]:
    tool = await writable(session, access, tool_id)
    check_sharing(form.access_grants, access, "tools", current=tool.access_grants)
    tool.access_grants = grants(tool_id, form.access_grants)
    await session.commit()
    runtime.model_tools.invalidate()
    return tool_model(tool)


@router.delete("/id/{tool_id}/delete", summary="Delete a tool")
async def delete_tool(tool_id: str, access: AccessDep, session: Session,
                      runtime: RuntimeDep) -> bool:
    tool = await writable(session, access, tool_id)
    await history.forget_item(session, "tool", tool_id)
    await session.delete(tool)
    await session.commit()
    runtime.plugins.forget("tool", tool_id)
    runtime.model_tools.invalidate()
    return True


@router.get("/id/{tool_id}/specs", summary="A tool's OpenAI function specs")
async def tool_specs(tool_id: str, access: AccessDep,
                     session: Session) -> list[dict[str, Any]]:
    return (await crud.tool_for(session, access, tool_id)).specs


add_valves_routes(router, "tool", crud.tool_for, load_tool, crud.can_write_tool)
add_history_routes(router, "tool", writable, _restore)  # type: ignore[arg-type]
