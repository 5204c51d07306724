"""Loaded user code, kept per (kind, id, version): a tool's or function's instance with its
valves applied. A row changed by another replica has a newer `updated_at`, so it is reloaded."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from owui.agent.plugins.source import instantiate, load_module
from owui.core.errors import BadRequestError, InvalidError

FUNCTION_CLASSES = (("pipe", "Pipe"), ("filter", "Filter"), ("action", "Action"))


@dataclass(slots=True)
class Loaded:
    kind: str
    item_id: str
    version: float
    module: types.ModuleType
    instance: Any
    tools: list[Any] | None = None  # its ToolFunctions, made once (tools.registry)

    @property
    def valves_class(self) -> type[BaseModel] | None:
        return _model_class(self.instance, "Valves")

    @property
    def user_valves_class(self) -> type[BaseModel] | None:
        return _model_class(self.instance, "UserValves")

    def apply_valves(self, values: dict[str, Any]) -> None:
        cls = self.valves_class
        if cls is not None:
            try:
                self.instance.valves = cls(**(values or {}))
            except ValidationError:
                self.instance.valves = cls()  # stored values no longer fit: defaults

    def user_valves(self, values: dict[str, Any] | None) -> BaseModel | None:
        cls = self.user_valves_class
        if cls is None:
            return None
        try:
            return cls(**(values or {}))
        except ValidationError:
            return cls()


def _model_class(instance: Any, name: str) -> type[BaseModel] | None:
    cls = getattr(type(instance), name, None) or getattr(instance, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None


def function_type(module: types.ModuleType) -> tuple[str, str]:
    for kind, class_name in FUNCTION_CLASSES:
        if isinstance(getattr(module, class_name, None), type):
            return kind, class_name
    raise BadRequestError("The function's source defines no class Pipe, Filter or Action.")


def load(kind: str, item_id: str, source: str, version: float) -> Loaded:
    """Execute the source and make the instance (400 naming the line when it fails)."""
    module = load_module(kind, item_id, source)
    class_name = "Tools" if kind == "tool" else function_type(module)[1]
    return Loaded(kind, item_id, version, module, instantiate(kind, module, class_name))


def check_valves(cls: type[BaseModel] | None, values: dict[str, Any], what: str
                 ) -> dict[str, Any]:
    if cls is None:
        raise BadRequestError(f"This {what} has no valves.")
    try:
        return cls(**values).model_dump(mode="json")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors())
        raise InvalidError(f"Invalid valves: {problems}") from None


class PluginCache:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Loaded] = {}

    def get(self, kind: str, item_id: str, source: str, version: float,
            valves: dict[str, Any]) -> Loaded:
        found = self._items.get((kind, item_id))
        if found is None or found.version != version:
            found = load(kind, item_id, source, version)
            found.apply_valves(valves)
            self._items[(kind, item_id)] = found
        return found

    def forget(self, kind: str, item_id: str) -> None:
        self._items.pop((kind, item_id), None)
