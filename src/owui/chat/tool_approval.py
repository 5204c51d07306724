"""A tool call waiting for the user's decision (Open WebUI 0.12's
`POST /api/v1/chats/{id}/messages/{message_id}/resolve`): approve it, reject it, or answer it
(the `ask_user` tool's questions).

Open WebUI keeps such a call in the answer's `output` as a `function_call` item whose status is
`pending` (or `queued`, `requires_approval`); the decision is written into that list, as Open
WebUI writes it: approved, the call is `queued` and `approved`; rejected, it is `rejected` and
a `function_call_output` saying so follows it; answered, it is `completed` and its output holds
the answers. A call not in the list is a 404; one decided already (its output there, or its
status past waiting) a 409; a decision that does not fit the call (approving `ask_user`,
answering another tool, answering without answers) a 400. The whole change is one write job:
nothing is stored unless all of it is.

Open WebUI then runs the rest of the turn. owui's agent never pauses a run to ask (its tools
run as the model calls them), so its messages hold such calls only when a client stored them
(an imported chat, a message written through the API); there is no paused run to go on with.
So once no call of the message waits for a decision the message is done (`done: true`) as it
stands, an approved call kept `queued` and `approved` (recorded, never run: nothing would run
it); while one still waits it stays `done: false`, as Open WebUI keeps it.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from owui.chat.errors import MessageNotFound
from owui.chat.limits import MAX_MESSAGE_ID_CHARS
from owui.chat.rawdb import RawConnection
from owui.chat.turns.store import change_extra
from owui.core.errors import BadRequestError, ConflictError, NotFoundError

WAITING = frozenset({"pending", "queued", "requires_approval"})
ASK_USER = "ask_user"
REJECTED_TEXT = "Error: tool call rejected by user."


class ResolveToolCallForm(BaseModel):
    """Open WebUI's body; fields it added later (`session_id`) are taken and ignored."""

    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(min_length=1, max_length=MAX_MESSAGE_ID_CHARS)
    action: Literal["approve", "reject", "answer"]
    answers: Any = None
    timed_out: bool = False


def _call_id(item: dict[str, Any]) -> Any:
    return item.get("call_id") or item.get("id")


def _find_call(output: list[Any], message_id: str, call_id: str) -> dict[str, Any]:
    for item in output:
        if isinstance(item, dict) and item.get("type") == "function_call" \
                and _call_id(item) == call_id:
            return item
    raise NotFoundError(f"Message {message_id!r} has no tool call {call_id!r} waiting for a "
                        "decision.")


def _answered(output: list[Any], call_id: str) -> bool:
    return any(isinstance(i, dict) and i.get("type") == "function_call_output"
               and i.get("call_id") == call_id for i in output)


def _result(call_id: str, text: str, status: str) -> dict[str, Any]:
    return {"type": "function_call_output", "id": f"fco_{call_id}", "call_id": call_id,
            "output": [{"type": "input_text", "text": text}], "status": status}


def decide(output: list[Any], message_id: str, form: ResolveToolCallForm) -> None:
    """The decision written into `output` (in place), or the error that refuses it."""
    call = _find_call(output, message_id, form.call_id)
    call.setdefault("call_id", form.call_id)
    if _answered(output, form.call_id) or call.get("status") not in WAITING:
        raise ConflictError(f"Tool call {form.call_id!r} has already been resolved.")
    is_ask_user = call.get("name") == ASK_USER
    if form.action == "approve":
        if is_ask_user:
            raise BadRequestError("ask_user requires an answer or deny: send action 'answer' "
                                  "with 'answers', or 'reject'.")
        call.update(status="queued", approved=True)
    elif form.action == "reject":
        call["status"] = "rejected"
        output.append(_result(form.call_id, REJECTED_TEXT, "rejected"))
    else:
        if not is_ask_user:
            raise BadRequestError(f"Tool call {form.call_id!r} ({call.get('name')}) does not "
                                  "accept answers: approve or reject it.")
        if form.answers is None and not form.timed_out:
            raise BadRequestError("Answers are required for ask_user: send 'answers', or "
                                  "'timed_out': true.")
        payload = ({"status": "cancelled", "answers": {}, "timed_out": True} if form.timed_out
                   else {"status": "answered", "answers": form.answers or {}})
        call["status"] = "completed"
        output.append(_result(form.call_id, orjson.dumps(payload).decode(), "completed"))


def still_waiting(output: list[Any]) -> bool:
    """Whether a call of the output still waits for the user's decision (`paused`). Open
    WebUI counts an approved call too, until the resumed run has run it; owui has no run to
    resume (the module's docstring), so an approved call is decided, not waiting."""
    done = {i.get("call_id") for i in output
            if isinstance(i, dict) and i.get("type") == "function_call_output"}
    return any(isinstance(i, dict) and i.get("type") == "function_call"
               and i.get("status") in WAITING and not i.get("approved")
               and _call_id(i) not in done for i in output)


async def resolve(conn: RawConnection, chat_id: str, message_id: str,
                  form: ResolveToolCallForm) -> tuple[list[Any], bool]:
    """A write job: the decision stored on the message; (its output, whether a call still
    waits). The chat is the caller's, checked by the route."""
    def change(extra: dict[str, Any]) -> None:
        output = extra.get("output")
        if output is None:
            output = []
        if not isinstance(output, list):
            raise BadRequestError(f"Message {message_id!r} has no resolvable output.")
        decide(output, message_id, form)
        extra.update(output=output, done=not still_waiting(output))

    extra = await change_extra(conn, chat_id, message_id, change)
    if extra is None:
        raise MessageNotFound(chat_id, message_id)
    return extra["output"], not extra["done"]
