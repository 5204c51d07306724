"""Open WebUI's standard tasks (title, tags, follow-ups, search queries, image prompt,
autocompletion, emoji, merging several answers) as background jobs: the prompt, one model call
through the inference service, and the answer parsed from JSON."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from owui.agent.jobs import Finish, Jobs, runner
from owui.agent.models import Task
from owui.agent.runtime import Runtime
from owui.core.errors import InvalidError
from owui.core.tokens import Claims

HISTORY_MESSAGES = 6
HISTORY_CHARACTERS = 4000

TEMPLATES = {
    "title": (
        "### Task:\nWrite a concise title of 3 to 5 words, starting with an emoji, that sums "
        "up the chat below.\n### Guidelines:\n- Use the chat's main language.\n- No quotes "
        "and no formatting.\n### Output:\nJSON only: {\"title\": \"your title\"}"),
    "tags": (
        "### Task:\nGive 1 to 3 broad tags naming the main themes of the chat below, then 1 to "
        "3 more specific ones.\n### Guidelines:\n- Use the chat's main language.\n### Output:\n"
        "JSON only: {\"tags\": [\"tag1\", \"tag2\"]}"),
    "follow_up": (
        "### Task:\nSuggest 3 to 5 follow-up questions the user could ask next, from their "
        "point of view, about the chat below.\n### Output:\nJSON only: "
        "{\"follow_ups\": [\"question 1?\", \"question 2?\"]}"),
    "queries": (
        "### Task:\nWrite 1 to 3 short search queries that would find what the user needs "
        "to answer their last message in the chat below.\n### Output:\nJSON only: "
        "{\"queries\": [\"query 1\", \"query 2\"]}"),
    "image_prompt": (
        "### Task:\nWrite a detailed prompt for an image generator, picturing what the chat "
        "below asks for.\n### Output:\nJSON only: {\"prompt\": \"the image prompt\"}"),
    "auto": (
        "### Task:\nContinue the user's unfinished text with the few words they most likely "
        "write next.\n### Output:\nJSON only: {\"text\": \"the continuation\"}"),
    "emoji": (
        "### Task:\nReply with the one emoji that best shows the feeling of the message "
        "below, and nothing else."),
    "moa": (
        "### Task:\nSeveral models answered the query below. Merge their answers into one "
        "answer, better than each: keep what is right, drop what is wrong, and write it as "
        "your own answer."),
}
KEYS = {"title": "title", "tags": "tags", "follow_up": "follow_ups", "queries": "queries",
        "image_prompt": "prompt", "auto": "text"}
KINDS = (*KEYS, "emoji", "moa")  # emoji and moa answer with the model's text as it is
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def _text(content: Any) -> str:
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


def history(messages: list[dict[str, Any]]) -> str:
    lines = [f"{m.get('role', 'user').upper()}: {_text(m.get('content'))}"
             for m in messages[-HISTORY_MESSAGES:] if isinstance(m, dict)]
    return "\n".join(lines)[-HISTORY_CHARACTERS:]


def _messages(form: dict[str, Any], required: bool) -> list[dict[str, Any]]:
    messages = form.get("messages")
    if messages is None and not required:
        return []
    if not isinstance(messages, list) or (required and not messages):
        raise InvalidError("The task needs 'messages': the chat, as a list of messages.")
    return messages


def _prompt(form: dict[str, Any]) -> str:
    prompt = form.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidError("The task needs a 'prompt': the text it is about.")
    return prompt


def _content(kind: str, form: dict[str, Any], prompt: str) -> str:
    if kind == "emoji":
        return f"{prompt}\n### Message:\n{_prompt(form)}"
    if kind == "moa":
        responses = form.get("responses")
        if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses):
            raise InvalidError("The task needs 'responses': the models' answers, as strings.")
        answers = "\n".join(f"<answer{i}>\n{r}\n</answer{i}>"
                            for i, r in enumerate(responses, 1))
        return f"{prompt}\n### Query:\n{_prompt(form)}\n### Answers:\n{answers}"
    if kind == "auto":
        if form.get("type"):
            prompt += f"\n### The text is: {form['type']}"
        chat = history(_messages(form, required=False))
        return f"{prompt}\n### Chat History:\n<chat_history>\n{chat}\n</chat_history>\n" \
               f"### Unfinished text:\n<text>{_prompt(form)}</text>"
    if kind == "queries" and form.get("type"):
        prompt += f"\n### Queries are for: {form['type']}"
    chat = history(_messages(form, required=True))
    return f"{prompt}\n### Chat History:\n<chat_history>\n{chat}\n</chat_history>"


def task_request(kind: str, form: dict[str, Any], default_model: str | None,
                 template: str | None = None) -> dict[str, Any]:
    """The model call of a task; `template` is the admin's prompt for this kind (else ours)."""
    model = form.get("model") or default_model
    if not isinstance(model, str) or not model:
        raise InvalidError("The task needs a 'model' (or a task model set).")
    prompt = (form.get("prompt") if kind in ("title", "tags", "follow_up", "queries")
              else None) or template or TEMPLATES[kind]
    return {"model": model, "messages": [{"role": "user",
                                          "content": _content(kind, form, prompt)}],
            "stream": bool(form.get("stream")) and kind == "moa"}


def parse(kind: str, content: str, form: dict[str, Any]) -> Any:
    """The task's value from the model's answer; a sensible fallback when it is not JSON."""
    if kind not in KEYS:
        return (content or "").strip()
    key = KEYS[kind]
    match = _JSON.search(content or "")
    if match:
        try:
            data = orjson.loads(match.group(0))
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and key in data:
            return data[key]
    if kind in ("title", "image_prompt", "auto"):
        return (content or "").strip().strip('"').splitlines()[0][:80] if content else ""
    if kind == "queries":
        last = [m for m in form.get("messages", []) if m.get("role") == "user"]
        return [_text(last[-1].get("content"))[:200]] if last else []
    return []


@dataclass
class TaskHandle:
    runtime: Runtime
    task_id: str

    async def progress(self, value: float) -> None:
        await self.runtime.jobs.update(Task, self.task_id, progress=round(value, 4))


def completion_work(runtime: Runtime, token: str, kind: str, form: dict[str, Any],
                    request: dict[str, Any], handle: TaskHandle) -> Callable[[], Awaitable[Any]]:
    """The job of one task; `request` (from task_request) was checked before the task was
    stored, so that a bad one leaves no task behind."""

    async def work() -> dict[str, Any]:
        await handle.progress(0.1)
        completion = await runtime.inference.complete(token, request)
        content = ((completion.get("choices") or [{}])[0].get("message") or {}).get("content")
        return {"completion": completion,
                KEYS.get(kind, kind): parse(kind, content or "", form)}

    return work


async def create_task(runtime: Runtime, user: Claims, kind: str, request: dict[str, Any]) -> Task:
    async with runtime.db.sessions() as session:
        task = Task(user_id=user.sub, kind=kind, request=request, runner=runner())
        session.add(task)
        await session.commit()
        return task


def finisher(jobs: Jobs, task_id: str) -> Finish:
    async def finish(status: str, result: Any, error: str | None) -> None:
        values: dict[str, Any] = {"status": status, "result": result, "error": error,
                                  "finished_at": time.time()}
        if status == "completed":
            values["progress"] = 1.0
        await jobs.update(Task, task_id, **values)

    return finish


def task_view(task: Task) -> dict[str, Any]:
    return {"id": task.id, "user_id": task.user_id, "kind": task.kind, "status": task.status,
            "progress": task.progress, "result": task.result, "error": task.error,
            "created_at": task.created_at, "updated_at": task.updated_at,
            "finished_at": task.finished_at}
