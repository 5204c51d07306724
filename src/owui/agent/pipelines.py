"""Open WebUI's Functions: filters (`inlet`, `stream`, `outlet`, ordered by their valves'
`priority`), pipes (models that answer instead of a provider) and actions (run on a message).

A filter applies to a run when it is active and global, or names the run's model in its
`meta.model_ids`, or the run's workspace model names it (its preset's `meta.filterIds`), or the
run asks for it in `filter_ids`. A filter the user switches on in the chat (`toggle`, shown on
the model in the model list) runs only when the run asks for it, as in Open WebUI.

A filter that raises stops the run with a 400 naming it (or an error event once the answer has
started), and is logged by name; a pipe that raises fails the run with a 502 naming it (it
stands where a provider would).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import crud
from owui.agent.models import Function
from owui.agent.plugins.loaded import Loaded, PluginCache
from owui.agent.snapshot import Snapshot
from owui.agent.tools.base import Emit
from owui.core.errors import BadRequestError, DomainError
from owui.core.tokens import Claims

log = logging.getLogger("owui.agent.pipelines")


class FilterFailed(BadRequestError):
    def __init__(self, name: str, phase: str, error: BaseException) -> None:
        super().__init__(f"Filter '{name}' failed in {phase}: {type(error).__name__}: {error}")
        self.name = name


class PipeFailed(DomainError):
    status = 502


@dataclass(slots=True)
class Plugin:
    row: Function
    loaded: Loaded

    @property
    def instance(self) -> Any:
        return self.loaded.instance

    @property
    def priority(self) -> float:
        valves = getattr(self.instance, "valves", None)
        value = getattr(valves, "priority", 0) if valves is not None else 0
        return value if isinstance(value, int | float) else 0


def _kwargs(function: Callable[..., Any], values: dict[str, Any]) -> dict[str, Any]:
    parameters = inspect.signature(function).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return values
    return {name: value for name, value in values.items() if name in parameters}


async def call_hook(function: Callable[..., Any], values: dict[str, Any],
                    thread: bool = True) -> Any:
    """Call user code with the arguments it names: async awaited, sync in a thread."""
    kwargs = _kwargs(function, values)
    if inspect.iscoroutinefunction(function):
        return await function(**kwargs)
    result = await asyncio.to_thread(function, **kwargs) if thread else function(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def pipe_ids(plugin: Plugin) -> list[tuple[str, str]]:
    """(model id, name) of a pipe; a manifold (`pipes`) gives one model per entry."""
    pipes = getattr(plugin.instance, "pipes", None)
    if callable(pipes):
        pipes = pipes()
    if isinstance(pipes, list) and pipes:
        return [(f"{plugin.row.id}.{p['id']}", f"{plugin.row.name}{p.get('name', p['id'])}")
                for p in pipes if isinstance(p, dict) and "id" in p]
    return [(plugin.row.id, plugin.row.name)]


@dataclass
class Pipeline:
    user: Claims
    filters: list[Plugin] = field(default_factory=list)
    pipe: Plugin | None = None
    user_valves: dict[str, dict[str, Any]] = field(default_factory=dict)
    emit: Emit | None = None

    def values(self, plugin: Plugin, **extra: Any) -> dict[str, Any]:
        valves = plugin.loaded.user_valves(self.user_valves.get(plugin.row.id))
        user = {"id": self.user.sub, "role": self.user.role}
        if valves is not None:
            user["valves"] = valves
        return {"__user__": user, "__id__": plugin.row.id, "__event_emitter__": self.emit,
                **extra}

    async def _through(self, phase: str, body: dict[str, Any]) -> dict[str, Any]:
        for plugin in self.filters:
            hook = getattr(plugin.instance, phase, None)
            if hook is None:
                continue
            try:
                changed = await call_hook(hook, self.values(plugin, body=body,
                                                            __model__={"id": body.get("model")}))
            except Exception as exc:
                log.warning("filter %s failed in %s: %s", plugin.row.id, phase, exc)
                raise FilterFailed(plugin.row.id, phase, exc) from None
            if isinstance(changed, dict):
                body = changed
        return body

    async def inlet(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._through("inlet", body)

    async def outlet(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._through("outlet", body)

    @property
    def streams(self) -> bool:
        return any(hasattr(p.instance, "stream") for p in self.filters)

    async def stream(self, event: dict[str, Any]) -> dict[str, Any]:
        for plugin in self.filters:
            hook = getattr(plugin.instance, "stream", None)
            if hook is None:
                continue
            try:
                # Called once per chunk: in the loop, so it must be quick.
                changed = await call_hook(hook, {"event": event}, thread=False)
            except Exception as exc:
                log.warning("filter %s failed in stream: %s", plugin.row.id, exc)
                raise FilterFailed(plugin.row.id, "stream", exc) from None
            if isinstance(changed, dict):
                event = changed
        return event

    async def run_pipe(self, body: dict[str, Any]) -> AsyncIterator[str]:
        """The pipe's answer as text pieces, whatever it returns."""
        assert self.pipe is not None
        plugin = self.pipe
        try:
            answer = await call_hook(plugin.instance.pipe, self.values(plugin, body=body))
            async for piece in _pieces(answer):
                yield piece
        except Exception as exc:
            log.warning("pipe %s failed: %s", plugin.row.id, exc)
            raise PipeFailed(f"Pipe '{plugin.row.id}' failed: "
                             f"{type(exc).__name__}: {exc}") from None


async def _pieces(answer: Any) -> AsyncIterator[str]:
    if answer is None:
        return
    if isinstance(answer, str):
        yield answer
    elif isinstance(answer, dict):
        choices = answer.get("choices") or [{}]
        yield str((choices[0].get("message") or {}).get("content") or "")
    elif hasattr(answer, "__aiter__"):
        async for item in answer:
            yield _text(item)
    elif hasattr(answer, "__iter__"):
        for item in answer:
            yield _text(item)
    else:
        yield str(answer)


def _text(item: Any) -> str:
    if isinstance(item, dict):
        choices = item.get("choices") or [{}]
        return str((choices[0].get("delta") or {}).get("content") or "")
    return item.decode() if isinstance(item, bytes) else str(item)


def load_function(cache: PluginCache, row: Function) -> Plugin:
    return Plugin(row, cache.get("function", row.id, row.content, row.updated_at, row.valves))


def applies(row: Function, model: str, asked: Sequence[str],
            model_filters: Sequence[str] = ()) -> bool:
    meta = row.meta or {}
    if row.id in asked:
        return True
    if meta.get("toggle"):  # switched on in the chat for a turn, or not at all
        return False
    return row.is_global or model in (meta.get("model_ids") or []) or row.id in model_filters


async def build_pipeline(session: AsyncSession, cache: PluginCache,
                         functions: Snapshot[list[Function]], user: Claims, model: str,
                         filter_ids: Sequence[str] = (),
                         model_filters: Sequence[str] = ()) -> Pipeline:
    """`filter_ids`: those the run asks for; `model_filters`: its workspace model's."""
    pipeline = Pipeline(user)
    rows = await functions.get(session)
    if not rows:
        return pipeline
    for row in rows:
        if row.type == "filter" and applies(row, model, filter_ids, model_filters):
            pipeline.filters.append(load_function(cache, row))
        elif row.type == "pipe" and model.split(".", 1)[0] == row.id:
            pipeline.pipe = load_function(cache, row)
    pipeline.filters.sort(key=lambda p: (p.priority, p.row.id))
    used = [p.row.id for p in pipeline.filters]
    if pipeline.pipe is not None:
        used.append(pipeline.pipe.row.id)
    pipeline.user_valves = await crud.user_valves_for(session, "function", used, user.sub)
    return pipeline


async def pipe_models(session: AsyncSession, cache: PluginCache) -> list[dict[str, Any]]:
    """Active pipes as entries of an OpenAI model list, marked as Open WebUI marks them."""
    models = []
    for row in await crud.active_functions(session):
        if row.type != "pipe":
            continue
        try:
            plugin = load_function(cache, row)
        except DomainError as exc:
            log.warning("pipe %s does not load: %s", row.id, exc.detail)
            continue
        for model_id, name in pipe_ids(plugin):
            models.append({"id": model_id, "name": name, "object": "model",
                           "created": row.created_at, "owned_by": "openai",
                           "pipe": {"type": "pipe"}})
    return models
