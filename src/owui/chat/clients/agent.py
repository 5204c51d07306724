"""The chat service's calls to the agent service: a turn's run, as the stream of its events
(SSE), and the tasks that title a new chat; with the user's token, through core.client.

A refused run, a lost connection or a timeout raises core.client's ServiceError (the status
passed on or 502/503/504); an `error` event inside the run is the agent's own refusal or
failure, read by `run_error` with the status the agent gave it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from owui.core.client import ServiceClient, ServiceError, ServiceFailed, ServiceRefused
from owui.core.config import Settings

RUN_PATH = "/api/v1/agents/run"
Event = dict[str, Any]


class AgentClient:
    def __init__(self, settings: Settings) -> None:
        self._client = ServiceClient("agent", settings)

    def run(self, token: str, body: dict[str, Any]) -> AsyncIterator[Event]:
        """The run's events as the agent sends them, ending with its `done` or `error` (read
        it in `contextlib.aclosing`: a turn stopped ends the call at once)."""
        return self._client.sse("POST", RUN_PATH, token=token, json={**body, "stream": True})

    async def task(self, kind: str, token: str, model: str,
                   messages: list[dict[str, Any]]) -> Any:
        """The answer of one of the agent's tasks (`title`, `tags`, ...): its `kind` field."""
        answer = await self._client.call("POST", f"/api/v1/tasks/{kind}/completions",
                                         token=token, json={"model": model, "messages": messages})
        key = "follow_ups" if kind == "follow_up" else kind  # the agent's answer's key
        return answer.get(key) if isinstance(answer, dict) else None


def run_error(event: Event) -> ServiceError:
    """An `error` event of a run as the error it reports, with the agent's status."""
    status = event.get("status")
    status = status if isinstance(status, int) and 400 <= status < 600 else 502
    detail = str(event.get("detail") or "The run failed.")
    kind = ServiceRefused if status < 500 else ServiceFailed
    return kind("agent", status, detail)
