"""Reads and writes of tools, functions and user valves, with who may see what."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent.models import Function, Tool, UserValves
from owui.core.access import Access, can_read, can_write
from owui.core.errors import NotFoundError
from owui.core.tokens import Claims

# Who is asking: a request's Access (groups and permissions, from the gateway's signed header),
# or a token's Claims where there is no request (a workflow running in the background), which
# counts as no group and no permission.
Who = Access | Claims


def viewer(who: Who) -> Access:
    if isinstance(who, Access):
        return who
    return Access(who.sub, who.role, frozenset(), {})


def can_read_tool(who: Who, tool: Tool) -> bool:
    return can_read(tool.access_grants, viewer(who), owner_id=tool.user_id)


def can_write_tool(who: Who, tool: Tool) -> bool:
    """Changing a tool changes code the server runs: admins, and holders of the
    `workspace.tools` permission who own the tool or hold a write grant on it."""
    access = viewer(who)
    return access.is_admin or (access.allows("workspace.tools") and can_write(
        tool.access_grants, access, owner_id=tool.user_id))


async def tool_for(session: AsyncSession, user: Who, tool_id: str) -> Tool:
    tool = await session.get(Tool, tool_id)
    if tool is None or not can_read_tool(user, tool):
        raise NotFoundError(f"Tool '{tool_id}' not found.")
    return tool


async def tools_of(session: AsyncSession, user: Who) -> list[Tool]:
    rows = await session.scalars(select(Tool).order_by(Tool.updated_at.desc()))
    return [t for t in rows if can_read_tool(user, t)]


async def tools_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Tool]:
    if not ids:
        return {}
    rows = await session.scalars(select(Tool).where(Tool.id.in_(list(ids))))
    return {t.id: t for t in rows}


async def tools_by_model(session: AsyncSession) -> dict[str, list[Tool]]:
    """The tools each model enables for every run (a tool's `meta.model_ids`)."""
    found: dict[str, list[Tool]] = {}
    for tool in await session.scalars(select(Tool)):
        for model in (tool.meta or {}).get("model_ids") or []:
            if isinstance(model, str):
                found.setdefault(model, []).append(tool)
    return found


async def function_for(session: AsyncSession, function_id: str) -> Function:
    function = await session.get(Function, function_id)
    if function is None:
        raise NotFoundError(f"Function '{function_id}' not found.")
    return function


async def active_functions(session: AsyncSession) -> list[Function]:
    rows = await session.scalars(select(Function).where(Function.is_active.is_(True)))
    return list(rows)


async def all_functions(session: AsyncSession) -> list[Function]:
    rows = await session.scalars(select(Function).order_by(Function.updated_at.desc()))
    return list(rows)


async def user_valves(session: AsyncSession, kind: str, item_id: str,
                      user_id: str) -> dict[str, Any] | None:
    row = await session.get(UserValves, (kind, item_id, user_id))
    return row.valves if row else None


async def user_valves_for(session: AsyncSession, kind: str, item_ids: Sequence[str],
                          user_id: str) -> dict[str, dict[str, Any]]:
    if not item_ids:
        return {}
    rows = await session.scalars(select(UserValves).where(
        UserValves.kind == kind, UserValves.item_id.in_(list(item_ids)),
        UserValves.user_id == user_id))
    return {row.item_id: row.valves for row in rows}


async def set_user_valves(session: AsyncSession, kind: str, item_id: str, user_id: str,
                          values: dict[str, Any]) -> None:
    row = await session.get(UserValves, (kind, item_id, user_id))
    if row is None:
        session.add(UserValves(kind=kind, item_id=item_id, user_id=user_id, valves=values))
    else:
        row.valves = values
    await session.commit()


def touch(row: Tool | Function) -> None:
    """A new version: every replica's cache reloads the code and its valves."""
    row.updated_at = time.time()
