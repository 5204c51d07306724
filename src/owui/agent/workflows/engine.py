"""Running a workflow: one step after another, each step's input, output or error stored as it
happens, values passed by name; cancel stops it between (or inside) steps."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from sqlalchemy import update

from owui.agent.expressions import CONDITION, evaluate
from owui.agent.jobs import INTERRUPTED, runner
from owui.agent.models import Workflow, WorkflowRun, WorkflowStep
from owui.agent.runs import prepare_run, run_to_end
from owui.agent.runtime import Runtime
from owui.agent.schemas import RunForm
from owui.agent.tools.base import run_tool
from owui.agent.tools.registry import build_toolset
from owui.agent.workflows.definition import (
    END,
    PLACEHOLDER,
    BranchStep,
    CodeStep,
    Definition,
    ModelStep,
    RetrievalStep,
    Step,
    ToolStep,
)
from owui.core.db import Database
from owui.core.errors import DomainError
from owui.core.tokens import Claims


class StepFailed(RuntimeError):
    """A step could not do its work; the message says why."""


def lookup(values: dict[str, Any], name: str, path: str) -> Any:
    value = values[name]
    for part in filter(None, path.split(".")):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise StepFailed(f"'{name}{path}' does not exist")
    return value


def render(template: Any, values: dict[str, Any]) -> Any:
    """`{{name.path}}` filled in; a string that is only a placeholder keeps the value's type."""
    if isinstance(template, dict):
        return {k: render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values) for v in template]
    if not isinstance(template, str):
        return template
    whole = PLACEHOLDER.fullmatch(template.strip())
    if whole:
        return lookup(values, whole.group(1), whole.group(2))

    def text(match: Any) -> str:
        value = lookup(values, match.group(1), match.group(2))
        return value if isinstance(value, str) else orjson.dumps(value, default=str).decode()

    return PLACEHOLDER.sub(text, template)


class Execution:
    """One run in progress: the caller, their token, the definition, the values so far."""

    def __init__(self, runtime: Runtime, run_id: str, user: Claims, token: str,
                 definition: Definition, values: dict[str, Any]) -> None:
        self.runtime = runtime
        self.run_id = run_id
        self.user = user
        self.token = token
        self.definition = definition
        self.values = values
        self.session_id = f"workflow-{run_id[:12]}"

    async def __call__(self) -> dict[str, Any]:
        try:
            return await self._steps()
        finally:
            await self.runtime.kernels.close_session(self.user.sub, self.session_id)

    async def _steps(self) -> dict[str, Any]:
        step_id, position = self.definition.steps[0].id, 0
        ids = [s.id for s in self.definition.steps]
        while step_id != END:
            step = self.definition.step(step_id)
            index = ids.index(step_id)
            jump = await self._record(step, position)
            step_id = jump or step.next or self.definition.following(index)
            position += 1
        return self.values

    async def _record(self, step: Step, position: int) -> str | None:
        async with self.runtime.db.sessions() as session:
            row = WorkflowStep(run_id=self.run_id, position=position, step_id=step.id,
                               type=step.type, status="running")
            session.add(row)
            await session.execute(update(WorkflowRun).where(WorkflowRun.id == self.run_id)
                                  .values(current_step=step.id, updated_at=time.time()))
            await session.commit()
            row_id = row.id
        status, output, error, jump = "failed", None, None, None
        try:
            output, jump = await self._run(step)
            status = "completed"
        except StepFailed as exc:
            error = str(exc)
            raise
        except DomainError as exc:
            error = exc.detail
            raise StepFailed(f"step '{step.id}': {exc.detail}") from None
        except BaseException as exc:
            cancelled = isinstance(exc, asyncio.CancelledError)
            status = "cancelled" if cancelled else "failed"
            error = "Cancelled." if cancelled else f"{type(exc).__name__}: {exc}"
            raise
        finally:
            await self._store(row_id, step, status, output, error)
        return jump

    async def _store(self, row_id: int, step: Step, status: str, output: Any,
                     error: str | None) -> None:
        if status == "completed":
            self.values[step.id] = output
            if step.output:
                self.values[step.output] = output
        async with self.runtime.db.sessions() as session:
            await session.execute(update(WorkflowStep).where(WorkflowStep.id == row_id).values(
                status=status, output=output, error=error, finished_at=time.time()))
            await session.execute(update(WorkflowRun).where(WorkflowRun.id == self.run_id)
                                  .values(values=self.values, updated_at=time.time()))
            await session.commit()

    async def _run(self, step: Step) -> tuple[Any, str | None]:
        if isinstance(step, BranchStep):
            try:
                taken = bool(evaluate(step.condition, {**CONDITION, **self.values}))
            except ValueError as exc:
                raise StepFailed(f"step '{step.id}': the condition failed: {exc}") from None
            return {"condition": taken}, step.then if taken else step.otherwise
        runners = {ModelStep: self._model, ToolStep: self._tool,
                   RetrievalStep: self._retrieval, CodeStep: self._code}
        try:
            return await runners[type(step)](step), None
        except KeyError as exc:
            raise StepFailed(f"step '{step.id}': no value {exc}") from None

    async def _model(self, step: ModelStep) -> str:
        model = step.model or self.definition.model
        if not model:
            raise StepFailed(f"step '{step.id}' names no model (and the workflow no default)")
        messages = [{"role": "user", "content": render(step.prompt, self.values)}]
        if step.system:
            messages.insert(0, {"role": "system", "content": render(step.system, self.values)})
        if step.tool_ids:
            form = RunForm(model=model, messages=messages, tool_ids=step.tool_ids,
                           stream=False, session_id=self.session_id)
            async with self.runtime.db.sessions() as session:
                prepared = await prepare_run(self.runtime, session, self.user, self.token, form)
            return (await run_to_end(self.runtime, prepared, False))["content"]
        completion = await self.runtime.inference.complete(
            self.token, {"model": model, "messages": messages})
        choice = (completion.get("choices") or [{}])[0]
        return str((choice.get("message") or {}).get("content") or "")

    async def _tool(self, step: ToolStep) -> Any:
        tool_id, _, method = step.tool.partition(".")
        async with self.runtime.db.sessions() as session:
            toolset = await build_toolset(session, self.runtime.plugins, self.user, [tool_id])
        name = method or (step.tool if step.tool in toolset.functions else "")
        if not name and len(toolset.functions) == 1:
            name = next(iter(toolset.functions))
        context = self.runtime.context(self.user, self.token, session_id=self.session_id)
        context.user_valves = toolset.valves_for
        arguments = orjson.dumps(render(step.arguments, self.values), default=str).decode()
        outcome = await run_tool(toolset.functions.get(name), name or step.tool, arguments,
                                 context, self.runtime.settings.agent_tool_timeout)
        if outcome.error:
            raise StepFailed(outcome.content)
        try:
            return orjson.loads(outcome.content)
        except orjson.JSONDecodeError:
            return outcome.content

    async def _retrieval(self, step: RetrievalStep) -> Any:
        query = str(render(step.query, self.values))
        retrieval = self.runtime.retrieval
        if step.web:
            found = await retrieval.web_search(self.token, query, step.k)
            return [{"content": d.get("content"), "source": (d.get("metadata") or {})
                     .get("source")} for d in found.get("docs", [])]
        names = render(step.collection_names, self.values)
        found = await retrieval.search(self.token, query, names, step.k)
        return [{"text": h.get("text"), "source": h.get("source") or h.get("name"),
                 "score": h.get("score")} for h in found.get("hits", [])]

    async def _code(self, step: CodeStep) -> dict[str, Any]:
        code = str(render(step.code, self.values))
        outcome = await self.runtime.kernels.execute(self.user.sub,
                                                     step.session_id or self.session_id,
                                                     code, step.timeout)
        reply = outcome.reply
        if reply.get("error"):
            raise StepFailed(f"step '{step.id}': {reply['error']['name']}: "
                             f"{reply['error']['value']}")
        return {"stdout": reply.get("stdout", ""), "stderr": reply.get("stderr", ""),
                "result": reply.get("result")}


async def start_run(runtime: Runtime, user: Claims, token: str, workflow: Workflow,
                    inputs: dict[str, Any]) -> WorkflowRun:
    definition = Definition.model_validate(workflow.definition)
    values = {**definition.inputs, **inputs}
    async with runtime.db.sessions() as session:
        run = WorkflowRun(workflow_id=workflow.id, user_id=user.sub, runner=runner(),
                          definition=workflow.definition, inputs=inputs, values=values)
        session.add(run)
        await session.commit()
    execution = Execution(runtime, run.id, user, token, definition, values)

    async def finish(status: str, result: Any, error: str | None) -> None:
        await runtime.jobs.update(WorkflowRun, run.id, status=status, error=error,
                                  finished_at=time.time(), current_step=None)

    runtime.jobs.launch(WorkflowRun, run.id, execution, finish)
    return run


async def fail_interrupted_steps(db: Database, run_ids: list[str]) -> None:
    """The steps that were running in the runs a sweep found interrupted: failed too."""
    async with db.sessions() as session:
        await session.execute(update(WorkflowStep).where(
            WorkflowStep.run_id.in_(run_ids), WorkflowStep.status == "running").values(
            status="failed", error=INTERRUPTED, finished_at=time.time()))
        await session.commit()
