"""A workflow: named inputs and steps (model call, tool call, retrieval query, code run,
branch) that pass named values. Checked before it is stored: every step known, every jump to a
step that exists, no cycle, every `{{value}}` defined by an input or an earlier step.

```yaml
name: brief
inputs: {topic: "solar power"}
steps:
  - {id: facts, type: retrieval, query: "{{topic}}", collection_names: [kb1], output: hits}
  - {id: check, type: branch, if: "len(hits) > 0", then: write, else: fallback}
  - {id: fallback, type: tool, tool: web_search, arguments: {query: "{{topic}}"},
     output: hits, next: write}
  - {id: write, type: model, model: gpt-4o, prompt: "Summarise: {{hits}}", output: summary}
```
Steps run in order unless `next` (or a branch's `then`/`else`) names another step, or `end`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from owui.core.errors import BadRequestError, InvalidError

STEP_ID = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
END = "end"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w]*)((?:\.[\w-]+)*)\s*\}\}")


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=STEP_ID)
    output: str | None = Field(default=None, pattern=r"^[A-Za-z_]\w{0,63}$")
    next: str | None = None

    def jumps(self) -> list[str]:
        return [self.next] if self.next else []

    def templates(self) -> list[Any]:
        return []


class ModelStep(_Step):
    type: Literal["model"]
    model: str | None = None
    prompt: str = Field(min_length=1)
    system: str | None = None
    tool_ids: list[str] = Field(default_factory=list)

    def templates(self) -> list[Any]:
        return [self.prompt, self.system]


class ToolStep(_Step):
    type: Literal["tool"]
    tool: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)

    def templates(self) -> list[Any]:
        return [self.arguments]


class RetrievalStep(_Step):
    type: Literal["retrieval"]
    query: str = Field(min_length=1)
    collection_names: list[str] = Field(default_factory=list)
    web: bool = False
    k: int | None = Field(default=None, ge=1, le=50)

    def templates(self) -> list[Any]:
        return [self.query, self.collection_names]


class CodeStep(_Step):
    type: Literal["code"]
    code: str = Field(min_length=1)
    session_id: str | None = None
    timeout: float | None = Field(default=None, gt=0, le=3600)

    def templates(self) -> list[Any]:
        return [self.code]


class BranchStep(_Step):
    type: Literal["branch"]
    condition: str = Field(alias="if", min_length=1)
    then: str
    otherwise: str = Field(default=END, alias="else")

    def jumps(self) -> list[str]:
        return [self.then, self.otherwise]


Step = Annotated[ModelStep | ToolStep | RetrievalStep | CodeStep | BranchStep,
                 Field(discriminator="type")]


class Definition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    description: str | None = None
    model: str | None = None  # the default of model steps
    inputs: dict[str, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1, max_length=200)

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def following(self, index: int) -> str:
        return self.steps[index + 1].id if index + 1 < len(self.steps) else END

    def successors(self, index: int) -> list[str]:
        step = self.steps[index]
        if isinstance(step, BranchStep):
            return step.jumps()
        return [step.next or self.following(index)]


def _references(value: Any) -> set[str]:
    if isinstance(value, str):
        return {m.group(1) for m in PLACEHOLDER.finditer(value)}
    if isinstance(value, dict):
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def _check_graph(definition: Definition) -> None:
    ids = [s.id for s in definition.steps]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidError(f"Step ids must be unique: {', '.join(duplicates)}.")
    known = set(ids)
    for step in definition.steps:
        for target in step.jumps():
            if target != END and target not in known:
                raise InvalidError(f"Step '{step.id}' goes to an unknown step "
                                   f"'{target}'.")
    position = {step_id: index for index, step_id in enumerate(ids)}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(step_id: str, path: list[str]) -> None:
        if state.get(step_id) == 2 or step_id == END:
            return
        if state.get(step_id) == 1:
            cycle = [*path[path.index(step_id):], step_id]
            raise InvalidError(f"The steps form a cycle: {' -> '.join(cycle)}.")
        state[step_id] = 1
        for target in definition.successors(position[step_id]):
            visit(target, [*path, step_id])
        state[step_id] = 2

    visit(ids[0], [])


def _check_values(definition: Definition) -> None:
    defined = set(definition.inputs) | {s.id for s in definition.steps}
    defined |= {s.output for s in definition.steps if s.output}
    for step in definition.steps:
        # A branch's condition names values bare; an unknown one fails that step when it runs.
        unknown = sorted(_references(step.templates()) - defined)
        if unknown:
            raise InvalidError(f"Step '{step.id}' uses {', '.join(unknown)}, which no "
                               "input or step defines.")


def parse_definition(data: Any) -> Definition:
    """A definition from JSON (a dict) or YAML (a string); 422 naming what is wrong."""
    if isinstance(data, str):
        import yaml  # only for YAML definitions: keeps the service's start quick

        try:
            data = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise BadRequestError(f"The workflow is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidError("The workflow must be an object with 'steps'.")
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:10]]
        raise InvalidError("Invalid workflow: " + "; ".join(problems)) from None
    _check_graph(definition)
    _check_values(definition)
    return definition
