"""The action and filter functions the model list shows on each model, as Open WebUI lists them:
the active global ones on every model, and a workspace model's own (its preset's
`meta.actionIds` and `meta.filterIds`) on it. An action gives the button under an answer (one
per entry of its `actions`, when it has several); a filter is shown only when the user switches
it on and off in the chat (`toggle`), the others just run (the agent service runs them).

The functions live in the agent service. Their list is the same for every user, so one copy is
kept for the process, read again when FRESH_FOR seconds old by one request while the others
wait on the same read (or take the old copy after the client's wait); when the agent cannot
answer, the model list goes out with what was known before (nothing, at first)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from owui.core.background import cancel_and_wait
from owui.core.client import ServiceError
from owui.inference.clients.agent import AgentClient

log = logging.getLogger("owui.inference.functions")
FRESH_FOR = 2.0  # seconds: a function switched on shows within this
# After a failed read: an agent that hangs would otherwise hold every model list for the
# client's whole wait each time the copy is due.
RETRY_AFTER = 10.0


@dataclass(frozen=True, slots=True)
class Known:
    actions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # function id ->
    filters: dict[str, dict[str, Any]] = field(default_factory=dict)  # the toggle ones
    global_ids: tuple[str, ...] = ()

    def on_model(self, meta: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
        """`{"actions", "filters"}` of a model: the global ones, then the model's own."""
        meta = meta or {}
        action_ids = _unique(self.global_ids, _ids(meta.get("actionIds")))
        filter_ids = _unique(self.global_ids, _ids(meta.get("filterIds")))
        return {"actions": [a for i in action_ids for a in self.actions.get(i, ())],
                "filters": [self.filters[i] for i in filter_ids if i in self.filters]}


def _ids(value: Any) -> list[str]:
    return [i for i in value if isinstance(i, str)] if isinstance(value, list) else []


def _unique(*groups: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for group in groups for i in group))


def _icon(function: dict[str, Any]) -> str | None:
    meta = function.get("meta") or {}
    manifest = meta.get("manifest") or {}
    return manifest.get("icon_url") or meta.get("icon") or None


def _base(function: dict[str, Any]) -> dict[str, Any]:
    meta = function.get("meta") or {}
    return {"id": function["id"], "name": function.get("name") or function["id"],
            "description": meta.get("description"), "icon": _icon(function)}


def action_items(function: dict[str, Any]) -> list[dict[str, Any]]:
    """One button, or one per entry of the action's own `actions` (`<function id>.<id>`)."""
    base = _base(function)
    subs = (function.get("meta") or {}).get("actions")
    if not isinstance(subs, list) or not subs:
        return [base]
    return [{**base, "id": f"{base['id']}.{sub['id']}",
             "name": sub.get("name") or f"{base['name']} ({sub['id']})",
             "icon": sub.get("icon_url") or base["icon"]}
            for sub in subs if isinstance(sub, dict) and sub.get("id")]


def known_of(functions: list[dict[str, Any]]) -> Known:
    active = [f for f in functions if f.get("is_active") and isinstance(f.get("id"), str)]
    meta = [(f, f.get("meta") or {}) for f in active]
    return Known(
        actions={f["id"]: action_items(f) for f, _ in meta if f.get("type") == "action"},
        filters={f["id"]: {**_base(f), "has_user_valves": bool(m.get("has_user_valves"))}
                 for f, m in meta if f.get("type") == "filter" and m.get("toggle")},
        global_ids=tuple(f["id"] for f in active if f.get("is_global")))


class ModelFunctions:
    def __init__(self, agent: AgentClient) -> None:
        self.agent = agent
        self.known = Known()
        self._due = float("-inf")  # when the copy is to be read again
        self._reading: asyncio.Task[None] | None = None

    async def current(self, token: str) -> Known:
        if time.monotonic() >= self._due:
            if self._reading is None or self._reading.done():
                self._reading = asyncio.create_task(self._read(token))
            # Shielded: a client that goes away does not cancel the others' read.
            await asyncio.shield(self._reading)
        return self.known

    async def _read(self, token: str) -> None:
        try:
            self.known = known_of(await self.agent.functions(token))
            self._due = time.monotonic() + FRESH_FOR
        except ServiceError as exc:
            log.warning("the model list shows the functions known before: %s", exc.detail)
            self._due = time.monotonic() + RETRY_AFTER

    async def close(self) -> None:
        await cancel_and_wait(self._reading)
