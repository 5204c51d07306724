"""The tools of one run: built-in tools by name and users' tools by id, as callable functions
with their specs; a name two tools share, or an id nobody knows, is a 400."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import crud
from owui.agent.models import Tool
from owui.agent.plugins.loaded import Loaded, PluginCache
from owui.agent.plugins.specs import methods_of
from owui.agent.tools.base import ToolFunction
from owui.agent.tools.builtin import BUILTINS
from owui.core.errors import BadRequestError


@dataclass
class Toolset:
    functions: dict[str, ToolFunction] = field(default_factory=dict)
    loaded: dict[str, Loaded] = field(default_factory=dict)
    user_valves: dict[str, dict[str, Any]] = field(default_factory=dict)

    def specs(self) -> list[dict[str, Any]]:
        return [tool.openai() for tool in self.functions.values()]

    def add(self, tool: ToolFunction) -> None:
        taken = self.functions.get(tool.name)
        if taken is not None:
            raise BadRequestError(f"Two tools are named '{tool.name}' (from '{taken.source}' "
                                  f"and '{tool.source}'); enable only one of them.")
        self.functions[tool.name] = tool

    def valves_for(self, tool_id: str) -> Any:
        loaded = self.loaded.get(tool_id)
        return loaded.user_valves(self.user_valves.get(tool_id)) if loaded else None


def tool_functions(loaded: Loaded) -> list[ToolFunction]:
    if loaded.tools is None:
        loaded.tools = [ToolFunction.of(name, method, loaded.item_id)
                        for name, method in methods_of(loaded.instance).items()]
    return loaded.tools


def load_tool(cache: PluginCache, tool: Tool) -> Loaded:
    return cache.get("tool", tool.id, tool.content, tool.updated_at, tool.valves)


async def build_toolset(session: AsyncSession, cache: PluginCache, user: crud.Who,
                        ids: Sequence[str]) -> Toolset:
    toolset = Toolset()
    wanted = [i for i in dict.fromkeys(ids) if i not in BUILTINS]
    rows = await crud.tools_by_ids(session, wanted)
    for tool_id in dict.fromkeys(ids):
        if tool_id in BUILTINS:
            toolset.add(BUILTINS[tool_id])
            continue
        row = rows.get(tool_id)
        if row is None or not crud.can_read_tool(user, row):
            raise BadRequestError(f"Unknown tool '{tool_id}': neither a built-in tool "
                                  f"({', '.join(BUILTINS)}) nor a tool you can use.")
        loaded = load_tool(cache, row)
        toolset.loaded[tool_id] = loaded
        for function in tool_functions(loaded):
            toolset.add(function)
    if toolset.loaded:
        toolset.user_valves = await crud.user_valves_for(session, "tool", list(toolset.loaded),
                                                         crud.viewer(user).user_id)
    return toolset
