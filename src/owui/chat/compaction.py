"""Compacting a chat (Open WebUI 0.12's `POST /api/v1/chats/{id}/compact`): the active branch,
from its last checkpoint, summarised by a model into a shorter context.

What Open WebUI does, and owui with it:
- Off unless the admin turned it on (`ENABLE_CONTEXT_COMPACTION`, chat_config.py): the answer
  is then 200 `{ok, compacted: false, reason: "disabled"}`, as for a chat with no messages
  (`empty`) or too few since its last checkpoint (`too_short`: two or fewer). The app shows
  each reason as a toast.
- The model: the one asked for, else `CONTEXT_COMPACTION_MODEL`, else the last model that
  answered on the branch, else the chat's first; none at all is a 400.
- Every message of the branch since the last checkpoint but the newest is summarised; the
  summary is stored on the newest (`contextSummary`, beside its other fields), which becomes the
  checkpoint. Nothing is stored unless the model answered: a failure leaves the chat as it was.
- A turn's history then starts at the newest checkpoint, the summary before it
  (turns/context.py), so the model sees the summary instead of what it replaced.

The model is called through the agent's run (chat/clients/agent.py), as a turn's is: the
agent asks the inference service, which passes a provider's failure on (502/503 naming it).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from owui.chat.clients.agent import AgentClient, run_error
from owui.chat.rawdb import RawConnection
from owui.chat.turns.store import merge_extra
from owui.core.errors import BadRequestError

SUMMARY_KEY = "contextSummary"
NO_MODEL = ("No model found for context compaction: name one in the body's 'model', or "
            "compact a chat a model has answered in.")
BUSY = "Wait for the current response to finish before compacting."
MAX_QUOTED_CHARS = 4000  # of one message, in the prompt
DEFAULT_PROMPT = """### Task:
Summarise the conversation below so that an assistant can go on with it without reading it.

### Guidelines:
- Keep the user's goal, their preferences and constraints, and the decisions already made.
- Keep names, numbers, file paths, code and errors exactly as they were written.
- Keep what is still open: unanswered questions and next steps.
- Write facts only, concisely; do not answer the conversation.

### Earlier summary:
{{PREVIOUS_SUMMARY}}

### Messages to summarise:
{{COMPACTED_MESSAGES}}

### Newest message (kept as it is):
{{RECENT_MESSAGES}}"""


@dataclass(frozen=True, slots=True)
class Plan:
    """What a compaction summarises: `compacted`, then `recent` (whose first is the new
    checkpoint), after `previous` (the last checkpoint's summary)."""

    compacted: list[dict[str, Any]]
    recent: list[dict[str, Any]]
    previous: str | None

    @property
    def checkpoint_id(self) -> str:
        return str(self.recent[0]["id"])


def summary_of(message: dict[str, Any]) -> str | None:
    value = message.get(SUMMARY_KEY)
    return value if isinstance(value, str) and value.strip() else None


def since_checkpoint(branch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """The branch from its newest checkpoint on (all of it when none), and that summary."""
    for index in range(len(branch) - 1, -1, -1):
        summary = summary_of(branch[index])
        if summary is not None:
            return branch[index:], summary
    return branch, None


def plan(branch: list[dict[str, Any]]) -> Plan | str:
    """The plan, or Open WebUI's reason for not compacting (`empty`, `too_short`)."""
    if not branch:
        return "empty"
    messages, previous = since_checkpoint(branch)
    if len(messages) <= 2:
        return "too_short"
    return Plan(messages[:-1], messages[-1:], previous)


def choose_model(asked: str | None, configured: str | None, branch: list[dict[str, Any]],
                 chat_models: Any) -> str:
    """The model of the summary (the module's docstring says in which order)."""
    answered = next((m.get("model") for m in reversed(branch)
                     if isinstance(m.get("model"), str) and m.get("model")), None)
    first = chat_models[0] if isinstance(chat_models, list) and chat_models else None
    for candidate in (asked, configured, answered, first):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    raise BadRequestError(NO_MODEL)


def _text(content: Any) -> str:
    if isinstance(content, list):  # OpenAI content parts: their text
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")[:MAX_QUOTED_CHARS]


def _quoted(messages: list[dict[str, Any]]) -> str:
    return "\n".join(f"{str(m.get('role') or 'user').upper()}: {_text(m.get('content'))}"
                     for m in messages)


def prompt(template: str | None, work: Plan) -> str:
    """The admin's template (`CONTEXT_COMPACTION_PROMPT_TEMPLATE`) or ours, filled in."""
    text = (template or "").strip() or DEFAULT_PROMPT
    for name, value in (("PREVIOUS_SUMMARY", work.previous or "(none)"),
                        ("COMPACTED_MESSAGES", _quoted(work.compacted)),
                        ("RECENT_MESSAGES", _quoted(work.recent))):
        text = text.replace("{{" + name + "}}", value)
    return text


async def summarise(agent: AgentClient, token: str, model: str, text: str) -> str:
    """The model's answer to `text`, through one agent run without tools; a refusal or a
    failure raises core.client's ServiceError with the status the agent gave it."""
    body = {"model": model, "messages": [{"role": "user", "content": text}], "max_steps": 1}
    said: list[str] = []
    async with contextlib.aclosing(agent.run(token, body)) as events:
        async for event in events:
            kind = event.get("type")
            if kind == "error":
                raise run_error(event)
            if kind == "token":
                said.append(str(event.get("content") or ""))
            elif kind == "done":
                return str(event.get("content") or "".join(said)).strip()
    return "".join(said).strip()


def fallback(work: Plan) -> str:
    """Open WebUI's summary when the model said nothing: the earlier summary and the start of
    each message summarised."""
    lines = [work.previous] if work.previous else []
    lines += [f"- {m.get('role', 'user')}: {_text(m.get('content'))[:500]}"
              for m in work.compacted if _text(m.get("content"))]
    return "\n".join(lines)[:MAX_QUOTED_CHARS]


async def store(conn: RawConnection, chat_id: str, message_id: str, summary: str) -> bool:
    """A write job: the summary on the checkpoint message; False when the message is gone
    (deleted while the model wrote)."""
    return await merge_extra(conn, chat_id, message_id, {SUMMARY_KEY: summary})


def compacted(work: Plan, summary: str) -> dict[str, Any]:
    """Open WebUI's answer after a compaction (`context_usage`: owui counts no usage)."""
    return {"ok": True, "compacted": True, "dropped_messages": len(work.compacted),
            "kept_messages": len(work.recent), "summary_chars": len(summary),
            "context_usage": None}


def skipped(reason: str) -> dict[str, Any]:
    return {"ok": True, "compacted": False, "reason": reason, "context_usage": None}
