"""The agent loop: model, tool calls (run together, each with a timeout), results back to the
model, until it answers or the step limit is reached; filters around it, or a pipe instead of
the model; the retrieval step (grounding.py) after the inlet filters. Produces events: token,
tool_call, tool_result, status, citations, done (errors raise)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from owui.agent.grounding import Grounding, ground
from owui.agent.pipelines import Pipeline
from owui.agent.tools.base import CallContext, Outcome, run_tool
from owui.agent.tools.registry import Toolset

Event = dict[str, Any]


@dataclass
class Step:
    content: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)


class ToolCallAccumulator:
    """Tool calls streamed in pieces (OpenAI deltas by index) put back together."""

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, Any]] = {}

    def add(self, deltas: list[dict[str, Any]]) -> None:
        for delta in deltas:
            index = int(delta.get("index", len(self.calls)))
            call = self.calls.setdefault(index, {"id": "", "type": "function",
                                                 "function": {"name": "", "arguments": ""}})
            if delta.get("id"):
                call["id"] = delta["id"]
            function = delta.get("function") or {}
            if function.get("name"):
                call["function"]["name"] += function["name"]
            if function.get("arguments"):
                call["function"]["arguments"] += function["arguments"]

    def result(self) -> list[dict[str, Any]]:
        calls = [self.calls[i] for i in sorted(self.calls)]
        for number, call in enumerate(calls):
            call["id"] = call["id"] or f"call_{number}"
        return calls


@dataclass
class AgentRun:
    body: dict[str, Any]  # model, messages and the model's parameters
    toolset: Toolset
    pipeline: Pipeline
    context: CallContext
    max_steps: int
    tool_timeout: float
    id: str = field(default_factory=lambda: f"run-{uuid.uuid4().hex[:16]}")
    usage: dict[str, int] = field(default_factory=dict)
    grounding: Grounding | None = None  # the retrieval step, when something is attached
    _events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)

    async def events(self) -> AsyncIterator[Event]:
        self.pipeline.emit = self.context.emit = self._emit
        body = await self.pipeline.inlet(dict(self.body))
        for event in self._drain():
            yield event
        if self.grounding is not None and self.grounding.wanted():
            async for event in ground(self.context, self.grounding, body):
                yield event
        messages = list(body.get("messages") or [])
        given = len(messages)
        self.context.messages = messages
        self.context.model = str(body.get("model"))
        if self.pipeline.pipe is not None:
            step = Step()
            async for piece in self.pipeline.run_pipe(body):
                step.content += piece
                yield {"type": "token", "content": piece}
            steps, finish = 1, "stop"
        else:
            step, steps, finish = Step(), 0, "step_limit"
            while steps < self.max_steps:
                steps += 1
                step = Step()
                async for event in self._model_call(body, messages, step):
                    yield event
                if not step.calls:
                    finish = "stop"
                    break
                messages.append({"role": "assistant", "content": step.content or None,
                                 "tool_calls": step.calls})
                async for event in self._tool_calls(step.calls, messages, steps):
                    yield event
        final = {"role": "assistant", "content": step.content if finish == "stop" else ""}
        out = await self.pipeline.outlet({**body, "messages": [*messages, final],
                                          "id": self.id})
        out_messages = out.get("messages") or [*messages, final]
        for event in self._drain():
            yield event
        yield {"type": "done", "id": self.id, "model": body.get("model"),
               "content": (out_messages[-1] or {}).get("content") or "",
               "finish_reason": finish, "steps": steps, "usage": self.usage,
               "messages": out_messages[given:]}

    def _drain(self) -> list[Event]:
        drained = []
        while not self._events.empty():
            drained.append(self._events.get_nowait())
        return drained

    async def _emit(self, event: dict[str, Any]) -> None:
        """Open WebUI's __event_emitter__: a tool's or filter's own events, in the stream."""
        await self._events.put({"type": "status", "event": event})

    async def _model_call(self, body: dict[str, Any], messages: list[dict[str, Any]],
                          step: Step) -> AsyncIterator[Event]:
        request = {**body, "messages": messages, "stream_options": {"include_usage": True}}
        specs = self.toolset.specs()
        if specs:
            request["tools"] = specs
        calls = ToolCallAccumulator()
        context = self.context
        async for chunk in context.inference.stream(context.token, request):
            if self.pipeline.filters:
                chunk = await self.pipeline.stream(chunk)
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    step.content += delta["content"]
                    yield {"type": "token", "content": delta["content"]}
                if delta.get("tool_calls"):
                    calls.add(delta["tool_calls"])
            if chunk.get("usage"):
                for key, value in chunk["usage"].items():
                    if isinstance(value, int):
                        self.usage[key] = self.usage.get(key, 0) + value
        step.calls = calls.result()

    async def _tool_calls(self, calls: list[dict[str, Any]], messages: list[dict[str, Any]],
                          step: int) -> AsyncIterator[Event]:
        for call in calls:
            yield {"type": "tool_call", "step": step, "id": call["id"],
                   "name": call["function"]["name"],
                   "arguments": call["function"]["arguments"]}
        outcomes: list[Outcome | None] = [None] * len(calls)

        async def one(index: int, call: dict[str, Any]) -> None:
            name = call["function"]["name"]
            outcome = await run_tool(self.toolset.functions.get(name), name,
                                     call["function"]["arguments"], self.context,
                                     self.tool_timeout)
            outcomes[index] = outcome
            await self._events.put({"type": "tool_result", "step": step, "id": call["id"],
                                    "name": name, "content": outcome.content,
                                    "error": outcome.error,
                                    "duration_ms": round(outcome.duration_ms, 2)})

        tasks = [asyncio.create_task(one(i, c)) for i, c in enumerate(calls)]
        try:
            pending = len(tasks)
            while pending:
                event = await self._events.get()
                pending -= event["type"] == "tool_result"
                yield event
        finally:
            # Not waited for (unlike a service's background tasks, core.background): a user's
            # tool may swallow its cancellation, and the run's end must not hang on it.
            for task in tasks:
                task.cancel()
        for call, outcome in zip(calls, outcomes, strict=True):
            messages.append({"role": "tool", "tool_call_id": call["id"],
                             "content": outcome.content if outcome else ""})


def summary(events: list[Event], started: float) -> dict[str, Any]:
    """The whole run as one JSON answer (stream: false)."""
    done = next(e for e in events if e["type"] == "done")
    results = {e["id"]: e for e in events if e["type"] == "tool_result"}
    calls = [{"id": e["id"], "name": e["name"], "arguments": e["arguments"], "step": e["step"],
              "result": results.get(e["id"], {}).get("content"),
              "error": results.get(e["id"], {}).get("error", False)}
             for e in events if e["type"] == "tool_call"]
    sources = [s for e in events if e["type"] == "citations" for s in e["sources"]]
    return {**{k: v for k, v in done.items() if k != "type"}, "object": "agent.run",
            "tool_calls": calls, "sources": sources,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
