"""Open WebUI's `/api/v1/tools`: users' Python tools. Creating or changing one runs code on the
server, so only admins may; users see the tools granted to them and set their own valves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from owui.agent import crud
from owui.agent.models import Tool
from owui.agent.plugins.loaded import Loaded, load
from owui.agent.routes.common import grants, meta_of, tool_access, tool_entry, tool_model
from owui.agent.routes.valves import add_valves_routes
from owui.agent.runtime import RuntimeDep
from owui.agent.schemas import AccessGrantsForm, ToolForm
from owui.agent.tools.builtin import BUILTINS
from owui.agent.tools.registry import load_tool, tool_functions
from owui.core.auth import AdminUser, CurrentUser
from owui.core.service import Session

router = APIRouter(prefix="/api/v1/tools", tags=["tools"])


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
async def list_tools(user: CurrentUser, session: Session) -> list[dict[str, Any]]:
    return [{**tool_entry(t), "user": None} for t in await crud.tools_of(session, user)]


@router.get("/list", summary="The tools the caller can use, with write access")
async def list_with_access(user: CurrentUser, session: Session) -> list[dict[str, Any]]:
    return [{**tool_entry(t), "user": None, "write_access": crud.can_write_tool(user, t)}
            for t in await crud.tools_of(session, user)]


@router.post("/create", summary="Create a tool from Python source (admin)")
async def create_tool(form: ToolForm, user: AdminUser, session: Session,
                      runtime: RuntimeDep) -> dict[str, Any]:
    if await session.get(Tool, form.id) is not None:
        raise HTTPException(409, f"A tool with the id '{form.id}' already exists.")
    loaded, specs = _checked(form)
    tool = Tool(id=form.id, user_id=user.sub, name=form.name, content=form.content,
                specs=specs, meta=meta_of(form.meta, form.content, loaded), valves={},
                access_grants=grants(form.id, form.access_grants))
    session.add(tool)
    await session.commit()
    runtime.model_tools.invalidate()
    return tool_entry(tool)


@router.get("/id/{tool_id}")
async def get_tool(tool_id: str, user: CurrentUser, session: Session) -> dict[str, Any]:
    tool = await crud.tool_for(session, user, tool_id)
    return tool_access(tool, crud.can_write_tool(user, tool))


@router.post("/id/{tool_id}/update", summary="Replace a tool's source (admin)")
async def update_tool(tool_id: str, form: ToolForm, user: AdminUser, session: Session,
                      runtime: RuntimeDep) -> dict[str, Any]:
    tool = await crud.tool_for(session, user, tool_id)
    loaded, specs = _checked(form.model_copy(update={"id": tool_id}))
    tool.name, tool.content, tool.specs = form.name, form.content, specs
    tool.meta = meta_of(form.meta, form.content, loaded)
    if form.access_grants is not None:
        tool.access_grants = grants(tool_id, form.access_grants)
    crud.touch(tool)
    await session.commit()
    runtime.plugins.forget("tool", tool_id)
    runtime.model_tools.invalidate()
    return tool_model(tool)


@router.post("/id/{tool_id}/access/update", summary="Who may use a tool (admin)")
async def update_access(tool_id: str, form: AccessGrantsForm, user: AdminUser,
                        session: Session, runtime: RuntimeDep) -> dict[str, Any]:
    tool = await crud.tool_for(session, user, tool_id)
    tool.access_grants = grants(tool_id, form.access_grants)
    await session.commit()
    runtime.model_tools.invalidate()
    return tool_model(tool)


@router.delete("/id/{tool_id}/delete", summary="Delete a tool (admin)")
async def delete_tool(tool_id: str, user: AdminUser, session: Session,
                      runtime: RuntimeDep) -> bool:
    tool = await crud.tool_for(session, user, tool_id)
    await session.delete(tool)
    await session.commit()
    runtime.plugins.forget("tool", tool_id)
    runtime.model_tools.invalidate()
    return True


@router.get("/id/{tool_id}/specs", summary="A tool's OpenAI function specs")
async def tool_specs(tool_id: str, user: CurrentUser, session: Session) -> list[dict[str, Any]]:
    return (await crud.tool_for(session, user, tool_id)).specs


add_valves_routes(router, "tool", crud.tool_for, load_tool)
