"""Actions: an active action function run on a message (the button under an answer). Open
WebUI's `POST /api/chat/actions/{id}` and our `/api/v1/agents/actions/{id}` both come here."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent import crud
from owui.agent.models import Function
from owui.agent.pipelines import Pipeline, call_hook, load_function
from owui.agent.runtime import Runtime
from owui.agent.schemas import ActionForm
from owui.core.client import ServiceError
from owui.core.errors import BadRequestError, NotFoundError
from owui.core.tokens import Claims

log = logging.getLogger("owui.agent.actions")


class ActionFailed(BadRequestError):
    pass


async def run_action(runtime: Runtime, session: AsyncSession, user: Claims, token: str,
                     action_id: str, form: ActionForm) -> tuple[Any, list[dict[str, Any]]]:
    """The action's return value and the events it emitted. `action_id` may name one of a
    function's several actions as `function_id.sub_id` (its `__id__`). Each event also goes to
    the pages showing the message (`chat_id` and `id` of the form), as Open WebUI's emitter
    sends it over the socket."""
    function_id, _, sub_id = action_id.partition(".")
    row = await session.get(Function, function_id)
    if row is None or row.type != "action" or not row.is_active:
        raise NotFoundError(f"Action '{action_id}' not found.")
    plugin = load_function(runtime.plugins, row)
    events: list[dict[str, Any]] = []

    async def emit(event: dict[str, Any]) -> None:
        events.append(event)
        if form.chat_id and form.id and isinstance(event, dict):
            await relay(runtime, token, form.chat_id, form.id, event)

    async def call(event: dict[str, Any]) -> None:
        # No page answers here (the request is the page's own): an input or a confirm asked
        # by the action gets no answer, as in Open WebUI when the page is gone.
        events.append(event)

    valves = await crud.user_valves(session, "function", row.id, user.sub)
    pipeline = Pipeline(user, user_valves={row.id: valves or {}}, emit=emit)
    values = pipeline.values(plugin, body=form.model_dump(), __model__={"id": form.model})
    values["__id__"] = sub_id or row.id
    values["__event_call__"] = call
    action = getattr(plugin.instance, "action", None)
    if action is None:
        raise ActionFailed(f"The function '{function_id}' has no action method.")
    try:
        result = await call_hook(action, values)
    except Exception as exc:
        raise ActionFailed(f"Action '{action_id}' failed: {type(exc).__name__}: {exc}") from None
    return plain(result), events


async def relay(runtime: Runtime, token: str, chat_id: str, message_id: str,
                event: dict[str, Any]) -> None:
    # The pages may be gone or the chat not the caller's: the action goes on, as in Open
    # WebUI, whose socket emitter never fails the action.
    try:
        await runtime.chat.message_event(token, chat_id, message_id, plain(event))
    except ServiceError as exc:
        log.warning("action event for chat %s not delivered: %s", chat_id, exc)


def plain(value: Any) -> Any:
    """The action's value as JSON can carry it (an object of another kind as its text)."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return str(value)
