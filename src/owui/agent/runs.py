"""Preparing an agent run from its form (tools, filters, code session) and serving it as SSE."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import crud
from owui.agent.grounding import Grounding
from owui.agent.pipelines import build_pipeline
from owui.agent.runner import AgentRun, Event, summary
from owui.agent.runtime import Runtime
from owui.agent.schemas import RunForm
from owui.agent.tools.registry import build_toolset
from owui.core.access import Access
from owui.core.errors import DomainError
from owui.core.tokens import Claims

log = logging.getLogger("owui.agent.runs")


async def prepare_run(runtime: Runtime, session: AsyncSession, user: Claims, token: str,
                      form: RunForm, access: Access | None = None) -> AgentRun:
    """`access`: the request's groups and permissions (a background workflow has none: its
    user's own and everyone's tools only)."""
    who = access or user
    by_model = (await runtime.model_tools.get(session)).get(form.model, [])
    enabled = [t.id for t in by_model if crud.can_read_tool(who, t)]
    # The chat's "Code Interpreter" switch (features.code_interpreter): code the model writes
    # runs in the sandbox, as with Open WebUI's server engine.
    if form.features.get("code_interpreter") and runtime.config["ENABLE_CODE_INTERPRETER"] \
            and crud.viewer(who).allows("features.code_interpreter"):
        enabled.append("execute_code")
    toolset = await build_toolset(session, runtime.plugins, who, [*form.tool_ids, *enabled])
    # A workspace model's own filters and knowledge count as Open WebUI counts them.
    extras = await runtime.model_extras.get(user, token, form.model)
    pipeline = await build_pipeline(session, runtime.plugins, runtime.functions, user, form.model,
                                    form.filter_ids, extras.filter_ids)
    # A run without a session of its own gets one for its code, closed when it ends.
    session_id = form.session_id
    if session_id is None and "execute_code" in toolset.functions:
        session_id = f"run-{uuid.uuid4().hex[:16]}"
    collections, file_ids = form.attachments()
    collections = list(dict.fromkeys([*collections, *extras.collections]))
    file_ids = list(dict.fromkeys([*file_ids, *extras.file_ids]))
    context = runtime.context(user, token, session_id=session_id,
                              collection_names=list(dict.fromkeys(
                                  [*form.collection_names, *collections])),
                              metadata={"chat_id": form.chat_id, "session_id": session_id})
    context.user_valves = toolset.valves_for
    settings = runtime.settings
    return AgentRun(form.model_body(), toolset, pipeline, context,
                    form.max_steps or settings.agent_max_steps,
                    form.tool_timeout or settings.agent_tool_timeout,
                    grounding=Grounding(collections, file_ids, form.wants_web_search()))


async def events_of(runtime: Runtime, run: AgentRun, owns_session: bool) -> AsyncIterator[Event]:
    try:
        async for event in run.events():
            yield event
    finally:
        if owns_session and run.context.session_id:
            await runtime.kernels.close_session(run.context.user.sub, run.context.session_id)


Progress = Callable[[float], Awaitable[None]]


async def run_to_end(runtime: Runtime, run: AgentRun, owns_session: bool,
                     progress: Progress | None = None) -> dict[str, Any]:
    """The whole run as one answer; `progress` hears of each step (the share of max_steps)."""
    started = time.perf_counter()
    events = []
    async for event in events_of(runtime, run, owns_session):
        events.append(event)
        if progress is not None and event["type"] == "tool_call":
            await progress(min(event["step"] / run.max_steps, 0.99))
    return summary(events, started)


def sse(event: Event) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


def error_event(exc: BaseException) -> Event:
    if isinstance(exc, DomainError):
        return {"type": "error", "status": exc.status, "detail": exc.detail}
    log.exception("agent run failed", exc_info=exc)
    return {"type": "error", "status": 500, "detail": f"The run failed: {type(exc).__name__}"}


async def sse_stream(first: Event, events: AsyncIterator[Event]) -> AsyncIterator[bytes]:
    """The events as SSE; an error after the first byte becomes an error event."""
    yield sse(first)
    try:
        async for event in events:
            yield sse(event)
    except Exception as exc:  # the status line is gone: the error travels as an event
        yield sse(error_event(exc))
    yield b"data: [DONE]\n\n"
