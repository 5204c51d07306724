"""A turn's first stage, parse: our form (`POST /api/v1/chats/{id}/completions`), or Open
WebUI's body (`POST /api/chat/completions`) read into it, then read once (`parse`) into an `Ask`,
which holds what each later stage takes; no later stage reads the form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from owui.chat.errors import InvalidChat, TooLarge
from owui.chat.limits import MAX_CONTENT_CHARS, MAX_MESSAGE_ID_CHARS
from owui.chat.models import new_id, now
from owui.chat.tree import MessageIn, parse_message
from owui.core.tokens import Claims

ID = Field(None, min_length=1, max_length=MAX_MESSAGE_ID_CHARS)
# Keys of Open WebUI's body that are not the model's parameters.
_NOT_PARAMS = frozenset({
    "chat_id", "id", "parent_id", "parent_message", "session_id", "messages", "model", "stream",
    "files", "tool_ids", "filter_ids", "features", "params", "variables", "tool_servers",
    "background_tasks", "model_item", "stream_options", "tools", "tool_choice", "system",
    # Open WebUI 0.12's own keys: a strict provider refuses them as parameters.
    "user_message", "skill_ids", "terminal_id", "folder_id", "chat_variables", "message_ids"})
# Model parameters a client may not set: the turn sets them.
_RESERVED = frozenset({"model", "messages", "stream", "stream_options", "tools", "tool_choice"})


class TurnForm(BaseModel):
    """One turn. `content` is the user's new message, under `parent_id` (omitted: the chat's
    current message; null: a new root, i.e. an edit of the first message). Without `content`,
    `parent_id` names a user message to answer again (regenerate: a new sibling answer)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str = Field(min_length=1, max_length=300)
    content: str | list[dict[str, Any]] | None = None
    parent_id: str | None = Field(None, max_length=MAX_MESSAGE_ID_CHARS,
                                  validation_alias=AliasChoices("parent_id", "parentId"))
    user_message_id: str | None = ID
    message_id: str | None = ID
    # The models the user's message asks at once (Open WebUI's `models`); None: `model` alone.
    models: list[str] | None = Field(None, min_length=1, max_length=8)
    files: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    collection_names: list[str] = Field(default_factory=list, max_length=100,
                                        description="Knowledge collection ids to search.")
    file_ids: list[str] = Field(default_factory=list, max_length=100)
    tool_ids: list[str] = Field(default_factory=list, max_length=64)
    filter_ids: list[str] = Field(default_factory=list, max_length=64)
    web_search: bool = False
    features: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="The model's parameters: temperature, ...")
    system: str | None = Field(None, max_length=MAX_CONTENT_CHARS)
    context_length: int | None = Field(None, ge=256, le=10_000_000)
    stream: bool = True

    def regenerate(self) -> bool:
        return self.content is None

    def check(self) -> None:
        if self.regenerate() and not self.parent_id:
            raise InvalidChat("Give 'content' (the user's message), or 'parent_id' naming the "
                              "user message to answer again.")
        if isinstance(self.content, str) and len(self.content) > MAX_CONTENT_CHARS:
            raise TooLarge("content", len(self.content), MAX_CONTENT_CHARS)
        reserved = _RESERVED & set(self.params)
        if reserved:
            raise InvalidChat(f"params may not set {sorted(reserved)}: the turn sets them.")

    def attachments(self) -> list[dict[str, Any]]:
        """Open WebUI's `files` items, with the collections and files named apart added."""
        items = list(self.files)
        items += [{"type": "collection", "id": c} for c in self.collection_names]
        items += [{"type": "file", "id": f} for f in self.file_ids]
        return items

    def max_tokens(self) -> int | None:
        value = self.params.get("max_tokens") or self.params.get("max_completion_tokens")
        return value if isinstance(value, int) and value > 0 else None


def from_openwebui(body: dict[str, Any]) -> tuple[TurnForm, str | None, list[dict[str, Any]]]:
    """Open WebUI's body: (the form, the chat id or None, the messages it sent). The last of
    `messages` is the user's new message; `id` is the assistant message's id."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        raise InvalidChat("'messages' must be a non-empty list of messages, the user's last.")
    last = messages[-1]
    if last.get("role") != "user":
        raise InvalidChat("The last of 'messages' must be the user's message (role 'user').")
    chat_id = body.get("chat_id")
    if chat_id is not None and not isinstance(chat_id, str):
        raise InvalidChat("'chat_id' must be a string.")
    params = {k: v for k, v in body.items() if k not in _NOT_PARAMS}
    params.update(body.get("params") if isinstance(body.get("params"), dict) else {})
    system = params.pop("system", None)  # Open WebUI's `params.system`: the system prompt
    params = {k: v for k, v in params.items() if k not in _RESERVED}
    fields: dict[str, Any] = {
        "model": body.get("model"), "content": last.get("content"),
        "files": body.get("files") or [], "tool_ids": body.get("tool_ids") or [],
        "filter_ids": body.get("filter_ids") or [], "features": body.get("features") or {},
        "params": params, "stream": bool(body.get("stream", False)),
        "user_message_id": last.get("id"), "message_id": body.get("id"),
        "system": system if isinstance(system, str) and system else None}
    if "parent_id" in body:
        fields["parent_id"] = body["parent_id"]
    try:
        form = TurnForm.model_validate(fields)
    except ValidationError as exc:
        raise InvalidChat("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors()[:10])) from None
    if form.content is None:
        raise InvalidChat("The user's message has no 'content'.")
    form.check()
    return form, chat_id, messages


@dataclass(slots=True)
class Ask:
    """A turn's form, read once into what the later stages take."""

    model: str
    user_message: MessageIn | None  # the user's new message; None: answer `parent_id` again
    answer: MessageIn  # the assistant's message, pending (parents are set when placed)
    parent_given: bool  # else under the chat's current message
    parent_id: str | None  # when given: the parent (None: a new root)
    chosen_ids: tuple[str, ...]  # message ids the client chose (ours are new uuids)
    system: str | None  # the form's system prompt
    context_length: int | None  # the model's context, when the form says
    max_tokens: int | None  # the room kept for the answer, when the form says
    run: dict[str, Any]  # the agent run's fields, all but `messages` and `chat_id`
    stream: bool

    def system_messages(self) -> list[dict[str, Any]]:
        return [{"role": "system", "content": self.system}] if self.system else []

    def run_body(self, messages: list[dict[str, Any]], chat_id: str | None) -> dict[str, Any]:
        """The agent run: these fields with the messages the model sees."""
        return {**self.run, "messages": messages, "chat_id": chat_id}


def author(user: Claims) -> dict[str, Any]:
    """Who wrote a user message, as Open WebUI stores it on the message (`user_id`, `user`). The
    name is the token's (Claims.name: no call to the gateway before the first token), so a
    name changed since the token was issued shows from the next token on; a token without
    one (a script's) gives the id alone."""
    if user.name is None:
        return {"user_id": user.sub}
    return {"user_id": user.sub, "user": {"id": user.sub, "name": user.name}}


def parse(form: TurnForm, user: Claims) -> Ask:
    """The form checked, and its messages made (new ids where the client chose none), the
    user's written by `user`."""
    form.check()
    stamp = now()
    user_message = None
    if not form.regenerate():
        raw = {"id": form.user_message_id or new_id(), "role": "user", "content": form.content,
               "timestamp": stamp, "models": form.models or [form.model], **author(user)}
        if form.files:
            raw["files"] = form.files
        user_message = parse_message(raw)
    answer = parse_message({"id": form.message_id or new_id(), "role": "assistant",
                            "content": "", "model": form.model, "timestamp": stamp,
                            "done": False, "status": "pending"})
    num_ctx = form.params.get("num_ctx")
    context_length = form.context_length or (num_ctx if isinstance(num_ctx, int) and num_ctx > 0
                                             else None)
    run = {**form.params, "model": form.model, "tool_ids": form.tool_ids,
           "filter_ids": form.filter_ids, "files": form.attachments(),
           "features": form.features, "web_search": form.web_search}
    return Ask(form.model, user_message, answer, "parent_id" in form.model_fields_set,
               form.parent_id, tuple(i for i in (form.user_message_id, form.message_id) if i),
               form.system, context_length, form.max_tokens(), run, form.stream)
