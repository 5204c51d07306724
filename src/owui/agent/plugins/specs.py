"""Typed, documented Python methods as OpenAI tool specs, as Open WebUI makes them.

The docstring's text before the first `:param` is the description; `:param name: text`
describes a parameter. Parameters named like `__user__` are injected by the service and are not
part of the spec. Each spec comes with a pydantic model that checks the model's arguments.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

_PARAM = re.compile(r"^\s*:param\s+(\w+)\s*:\s*(.*)$")


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    description: str
    arguments: type[BaseModel]
    injected: frozenset[str]
    # Made once: a JSON schema costs pydantic most of a millisecond, and every model call of
    # a run sends the specs.
    definition: dict[str, Any] = field(default_factory=dict)

    def openai(self) -> dict[str, Any]:
        """Open WebUI's stored form: name, description, parameters (do not change it)."""
        return self.definition

    def check(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments, coerced to their types; ValueError says what is wrong."""
        try:
            parsed = self.arguments.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}"
                                 for e in exc.errors())
            raise ValueError(problems) from None
        return {name: getattr(parsed, name) for name in type(parsed).model_fields}


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    if not doc:
        return "", {}
    description: list[str] = []
    params: dict[str, str] = {}
    in_params = False
    for line in inspect.cleandoc(doc).splitlines():
        match = _PARAM.match(line)
        if match:
            in_params = True
            params[match.group(1)] = match.group(2).strip()
        elif line.strip().startswith(":"):
            in_params = True  # :return: and the like end the description
        elif not in_params:
            description.append(line.strip())
    return " ".join(d for d in description if d).strip(), params


def is_injected(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def spec_of(name: str, function: Callable[..., Any]) -> Spec:
    description, documented = parse_docstring(function.__doc__)
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable annotations: fall back to no types
        hints = {}
    fields: dict[str, Any] = {}
    injected: set[str] = set()
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name == "self" or parameter.kind in (parameter.VAR_POSITIONAL,
                                                          parameter.VAR_KEYWORD):
            continue
        if is_injected(parameter.name):
            injected.add(parameter.name)
            continue
        kind = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (kind, Field(default, description=documented.get(
            parameter.name)))
    model = create_model(f"{name}_arguments", __config__=ConfigDict(extra="ignore"), **fields)
    description = description or name.replace("_", " ")
    return Spec(name, description, model, frozenset(injected),
                {"name": name, "description": description, "parameters": _parameters(model)})


def _parameters(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    return schema


def methods_of(instance: object) -> dict[str, Callable[..., Any]]:
    """The public methods of a Tools instance: each one is a tool."""
    found: dict[str, Callable[..., Any]] = {}
    for name in dir(type(instance)):
        if name.startswith("_"):
            continue
        member = getattr(instance, name, None)
        if inspect.ismethod(member) or inspect.isfunction(member):
            found[name] = member
    return found
