"""Open WebUI's JSON shapes of tools and functions, and what their routes share."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from owui.agent.models import Function, Tool
from owui.agent.plugins.loaded import Loaded
from owui.agent.plugins.source import front_matter
from owui.agent.schemas import Meta
from owui.core.access import Access, current_access

PERMISSIONS = ("read", "write")


# Async: FastAPI runs a sync dependency in a thread.
async def access_of_request(request: Request) -> Access:
    return current_access(request)


AccessDep = Annotated[Access, Depends(access_of_request)]


def forbidden(what: str) -> HTTPException:
    return HTTPException(403, f"You may not change {what}: it needs the 'workspace.tools' "
                              "permission and write access to it.")


def grants(resource_id: str, given: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Access grants checked and completed; none given means every user may use it."""
    if given is None:
        given = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
    result = []
    for index, grant in enumerate(given):
        principal = str(grant.get("principal_id") or "").strip()
        permission = grant.get("permission", "read")
        if not principal or permission not in PERMISSIONS:
            raise HTTPException(422, f"access_grants[{index}] needs a principal_id and a "
                                     "permission of read or write.")
        result.append({"id": grant.get("id") or str(uuid.uuid4()), "resource_type": "tool",
                       "resource_id": resource_id,
                       "principal_type": grant.get("principal_type") or "user",
                       "principal_id": principal, "permission": permission,
                       "created_at": int(grant.get("created_at") or time.time())})
    return result


def meta_of(meta: Meta, content: str, loaded: Loaded) -> dict[str, Any]:
    """The stored meta of a tool or function: the form's, its source's front matter as the
    manifest's defaults, and whether it has UserValves."""
    data = meta.model_dump(exclude_none=True)
    data["manifest"] = {**front_matter(content), **(data.get("manifest") or {})}
    return {**data, "has_user_valves": loaded.user_valves_class is not None}


def tool_entry(tool: Tool) -> dict[str, Any]:
    """ToolResponse."""
    return {"id": tool.id, "user_id": tool.user_id, "name": tool.name, "meta": tool.meta,
            "access_grants": tool.access_grants or [], "version_id": tool.version_id,
            "updated_at": int(tool.updated_at), "created_at": tool.created_at}


def tool_model(tool: Tool) -> dict[str, Any]:
    """ToolModel: with its source and specs."""
    return {**tool_entry(tool), "content": tool.content, "specs": tool.specs}


def tool_access(tool: Tool, write: bool) -> dict[str, Any]:
    """ToolAccessResponse (with the source and specs too, as Open WebUI's editor reads)."""
    return {**tool_model(tool), "write_access": write, "user": None}


def function_entry(function: Function) -> dict[str, Any]:
    """FunctionResponse."""
    return {"id": function.id, "user_id": function.user_id, "type": function.type,
            "name": function.name, "meta": function.meta, "is_active": function.is_active,
            "is_global": function.is_global, "version_id": function.version_id,
            "updated_at": int(function.updated_at), "created_at": function.created_at}


def function_model(function: Function, with_valves: bool = False) -> dict[str, Any]:
    """FunctionModel: with its source (FunctionWithValvesModel: and its valves)."""
    model = {**function_entry(function), "content": function.content}
    if with_valves:
        model["valves"] = function.valves or {}
    return model
