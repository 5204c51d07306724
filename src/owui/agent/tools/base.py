"""A callable tool with its spec, what a call of it is given, and how a call runs."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from owui.agent.clients.inference import InferenceClient
from owui.agent.clients.retrieval import RetrievalClient
from owui.agent.plugins.specs import Spec, spec_of
from owui.core.config import Settings
from owui.core.tokens import Claims

Emit = Callable[[dict[str, Any]], Awaitable[None]]
RESULT_LIMIT = 64 * 1024


async def _drop(_event: dict[str, Any]) -> None:
    return None


@dataclass
class CallContext:
    """What a tool call may use: the caller, their token, the services, the conversation."""

    user: Claims
    token: str
    inference: InferenceClient
    retrieval: RetrievalClient
    settings: Settings
    kernels: Any  # the KernelPool
    model: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    session_id: str | None = None
    collection_names: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    emit: Emit = _drop
    user_valves: Callable[[str], Any] = lambda _tool_id: None


@dataclass(frozen=True, slots=True)
class ToolFunction:
    name: str
    spec: Spec
    function: Callable[..., Any]
    source: str  # "builtin" or the user tool's id

    @classmethod
    def of(cls, name: str, function: Callable[..., Any], source: str) -> ToolFunction:
        return cls(name, spec_of(name, function), function, source)

    def openai(self) -> dict[str, Any]:
        return {"type": "function", "function": self.spec.openai()}

    def injected(self, context: CallContext) -> dict[str, Any]:
        user_valves = context.user_valves(self.source)
        available = {
            "__context__": context,
            "__user__": {"id": context.user.sub, "role": context.user.role,
                         **({"valves": user_valves} if user_valves is not None else {})},
            "__id__": self.source, "__model__": {"id": context.model},
            "__messages__": context.messages, "__metadata__": context.metadata,
            "__event_emitter__": context.emit, "__event_call__": _drop,
        }
        return {name: available.get(name) for name in self.spec.injected}

    async def invoke(self, checked: dict[str, Any], context: CallContext) -> Any:
        """Call with arguments already checked by `spec.check`."""
        kwargs = {**checked, **self.injected(context)}
        if inspect.iscoroutinefunction(self.function):
            return await self.function(**kwargs)
        if self.source == "builtin":
            return self.function(**kwargs)  # ours, short and bounded: no thread needed
        result = await asyncio.to_thread(self.function, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result


@dataclass(frozen=True, slots=True)
class Outcome:
    content: str
    error: bool
    duration_ms: float


def as_text(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(
        value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    if len(text) > RESULT_LIMIT:
        return text[:RESULT_LIMIT] + f"\n[cut at {RESULT_LIMIT} characters]"
    return text


async def run_tool(tool: ToolFunction | None, name: str, raw_arguments: str,
                   context: CallContext, seconds: float) -> Outcome:
    """One tool call; anything that goes wrong becomes an error result the model sees."""
    started = time.perf_counter()

    def done(content: str, error: bool) -> Outcome:
        return Outcome(content, error, (time.perf_counter() - started) * 1000)

    if tool is None:
        return done(f"Error: there is no tool named '{name}'.", True)
    try:
        arguments = orjson.loads(raw_arguments or "{}")
    except orjson.JSONDecodeError as exc:
        return done(f"Error: the arguments for '{name}' are not valid JSON ({exc}).", True)
    if not isinstance(arguments, dict):
        return done(f"Error: the arguments for '{name}' must be a JSON object.", True)
    try:
        checked = tool.spec.check(arguments)
    except ValueError as exc:
        return done(f"Error: invalid arguments for '{name}': {exc}", True)
    try:
        result = await asyncio.wait_for(tool.invoke(checked, context), seconds)
    except TimeoutError:
        return done(f"Error: the tool '{name}' did not finish within {seconds:g} s.", True)
    except Exception as exc:  # a tool's own failure is the model's to see, not a crash
        return done(f"Error: the tool '{name}' failed: {type(exc).__name__}: {exc}", True)
    return done(as_text(result), False)
