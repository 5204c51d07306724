"""Every operation of every service, read from the services' own OpenAPI documents, turned into
requests whose ids name someone's resources: a new route is in the matrix as soon as it is in a
document. Path, query and body fields are filled by name ("slots"); bodies the documents leave
free-form come from a small table of templates."""

from __future__ import annotations

import importlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from owui.core.auth import require_admin
from owui.gateway.dispatch import APP_PUBLIC_PATHS
from tests.support.routes import routes_of

SKIPPED_PATHS = frozenset({"/healthz", "/readyz"})
# Sign-up makes an account; it is public by design and tested on its own (tests/test_auth.py).
PUBLIC = frozenset({("POST", "/api/v1/auths/signup"), ("POST", "/api/v1/auths/signin"),
                    # The web app's public routes (tests/webapp/test_session.py).
                    *(("GET", path) for path in APP_PUBLIC_PATHS)})
# Ends the caller's own session: sent last, so that the caller's other requests still count.
SESSION_ENDING = frozenset({("POST", "/api/v1/auths/signout")})


class Slot:
    """A place in a body template for the value of one resource."""

    def __init__(self, key: str) -> None:
        self.key = key


# By field name: which resource a path, query or body field names.
NAME_SLOTS = {
    "key_id": "key", "user_id": "user", "connection_id": "connection", "file_id": "file",
    "file_ids": "file", "knowledge_id": "knowledge", "collection_name": "knowledge",
    "collection_names": "knowledge", "tool_id": "tool", "tool_ids": "tool",
    "function_id": "function", "action_id": "function", "filter_ids": "function",
    "task_id": "task", "run_id": "run", "workflow_id": "workflow", "session_id": "session",
    "job_id": "job", "chat_id": "chat", "folder_id": "folder", "parent_id": "folder",
    "message_id": "message", "parentId": "message", "share_id": "share", "model": "preset",
    "base_model_id": "preset",
}
# Names whose meaning depends on the route: (path pattern, where the field is, its name, the
# slot or None for none), first match wins.
PATH_SLOTS: tuple[tuple[str, str, str, str | None], ...] = (
    # Retrieval's external knowledge connections are not the inference service's connections.
    (r"^/api/v1/knowledge/external/connections", "path", "connection_id",
     "external_connection"),
    (r"^/api/v1/chats/\{id\}/clone/shared", "path", "id", "share"),
    (r"^/api/v1/chats/", "path", "id", "chat"),
    (r"^/api/v1/folders/", "path", "id", "folder"),
    (r"^/api/v1/models/", "any", "id", "preset"),
    (r"^/api/v1/agents/actions/", "body", "id", "message"),
    (r"^/api/v1/tools/", "path", "item_id", "tool"),
    (r"^/api/v1/functions/", "path", "item_id", "function"),
    (r"^/api/v1/chats/.*tags", "body", "name", "tag"),
    # A new preset's id is new; its base may be someone else's preset.
    (r"^/api/v1/models/create", "body", "id", None),
    # A message's model is a label, not a reference to a preset.
    (r"^/api/v1/chats/\{id\}/messages", "body", "model", None),
    # A chat turn names the message it follows; the ids of the new messages are new.
    (r"^/api/v1/chats/\{id\}/completions", "body", "parent_id", "message"),
    (r"/completions$", "body", "message_id", None),
    (r"/completions$", "body", "user_message_id", None),
    # Text collections are named by their user: the name is the caller's own.
    (r"^/api/v1/retrieval/process/text", "body", "collection_name", None),
)
LIST_FIELDS = frozenset({"file_ids", "collection_names", "tool_ids", "filter_ids"})

_ASK = [{"role": "user", "content": "What do you know? reply: nothing"}]
_RUN = {"model": Slot("preset"), "messages": _ASK, "stream": False,
        "collection_names": [Slot("knowledge")], "tool_ids": [Slot("tool")],
        "filter_ids": [Slot("function")], "chat_id": Slot("chat"),
        "session_id": Slot("session")}
_CHAT = {"model": Slot("preset"), "messages": _ASK, "stream": False}
_OLLAMA = {"model": Slot("preset"), "messages": _ASK, "prompt": "hi", "input": "hi",
           "stream": False}
_WORKFLOW = {"name": "w", "steps": [{"id": "a", "type": "code", "code": "1"}]}
# Bodies the documents leave free-form, by path pattern.
TEMPLATES: tuple[tuple[str, Any], ...] = (
    (r"^/api/v1/agents/run$", _RUN),
    (r"^/api/v1/agents/tasks$", {"kind": "run", "body": _RUN}),
    (r"^/api/v1/tasks/\{kind\}/completions$", {**_CHAT, "chat_id": Slot("chat")}),
    (r"^/api/v1/retrieval/rag$", {"messages": _ASK, "collection_names": [Slot("knowledge")],
                                  "file_ids": [Slot("file")]}),
    (r"^/api/chat/completions$", {**_CHAT, "chat_id": Slot("chat")}),
    (r"/chat/completions$", _CHAT),
    (r"/embeddings$", {"model": Slot("preset"), "input": "hi"}),
    (r"^/(api/v1/inference/)?ollama/", _OLLAMA),
    (r"^/api/v1/agents/workflows", _WORKFLOW),
    (r"/valves(/user)?/update$", {}),
    (r"^/api/v1/agents/code/execute$|^/api/v1/utils/code/execute$",
     {"code": "print(globals().get('secret'))", "session_id": Slot("session")}),
)


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    doc: dict[str, Any] = field(hash=False, compare=False)
    components: dict[str, Any] = field(hash=False, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def load_operations(urls: dict[str, str]) -> list[Operation]:
    """Every operation in every service's own document (service name -> base URL)."""
    found: dict[tuple[str, str], Operation] = {}
    # The gateway's document may merge the others': each operation is its owner's first.
    for service, url in sorted(urls.items(), key=lambda item: item[0] == "gateway"):
        document = httpx.get(f"{url}/openapi.json", timeout=30).json()
        components = document.get("components", {}).get("schemas", {})
        for path, item in document["paths"].items():
            if path in SKIPPED_PATHS:
                continue
            for method, doc in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    op = Operation(service, method.upper(), path, doc, components)
                    found.setdefault(op.key, op)
    return sorted(found.values(), key=lambda o: (o.path, o.method))


def _depends_on(dependant: Any, call: Any) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def admin_only(services: list[str]) -> set[tuple[str, str]]:
    """The operations whose route depends on `require_admin`, read from the apps themselves:
    what the code enforces, not a list to keep up to date."""
    keys: set[tuple[str, str]] = set()
    for service in services:
        app = importlib.import_module(f"owui.{service}.app").app
        app = getattr(app, "api", app)  # the gateway wraps its FastAPI app
        for path, route in routes_of(app.routes):
            dependant = getattr(route, "dependant", None)
            if dependant is not None and _depends_on(dependant, require_admin):
                keys.update((m, path) for m in route.methods)
    return keys


def slot_of(path: str, name: str, where: str) -> str | None:
    for pattern, place, field_name, slot in PATH_SLOTS:
        if field_name == name and place in (where, "any") and re.search(pattern, path):
            return slot
    return NAME_SLOTS.get(name)


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _sample(schema: dict[str, Any], components: dict[str, Any], path: str) -> Any:
    """A small valid value for a schema: required fields only, besides slot-named ones."""
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _sample(options[0], components, path) if options else None
    if "allOf" in schema:
        return _sample(schema["allOf"][0], components, path)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
        slots = {name: slot_of(path, name, "body") for name in properties}
        return {name: (Slot(slot) if (slot := slots[name]) and name not in LIST_FIELDS
                       else [Slot(slot)] if slot else _sample(sub, components, path))
                for name, sub in properties.items() if name in required or slots[name]}
    if kind == "array":
        minimum = schema.get("minItems", 0)
        return [_sample(schema.get("items", {}), components, path)] * minimum
    if kind == "string":
        if schema.get("format") == "email":
            return "someone@authz.test"
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return {}


def body_template(op: Operation) -> tuple[str, Any] | None:
    """(content type, template) of the operation's request body; None when it takes none."""
    content = op.doc.get("requestBody", {}).get("content", {})
    for pattern, template in TEMPLATES:
        if content and re.search(pattern, op.path):
            return ("application/json", template)
    if "multipart/form-data" in content:
        return ("multipart/form-data", None)
    if "application/json" in content:
        schema = content["application/json"].get("schema")
        return ("application/json", _sample(schema, op.components, op.path) if schema else None)
    return None


def _slots_in(template: Any) -> Iterator[str]:
    if isinstance(template, Slot):
        yield template.key
    elif isinstance(template, dict):
        for value in template.values():
            yield from _slots_in(value)
    elif isinstance(template, list):
        for value in template:
            yield from _slots_in(value)


_MISSING = object()


def _fill(template: Any, values: dict[str, Any]) -> Any:
    """The template with each slot's value; a slot without one leaves its field out."""
    if isinstance(template, Slot):
        return values.get(template.key, _MISSING)
    if isinstance(template, dict):
        filled = {k: _fill(v, values) for k, v in template.items()}
        return {k: v for k, v in filled.items() if v is not _MISSING}
    if isinstance(template, list):
        return [v for v in (_fill(item, values) for item in template) if v is not _MISSING]
    return template


@dataclass
class Call:
    """One request of the matrix, and the slots whose values came from the victim."""

    op: Operation
    method: str
    url: str
    params: dict[str, Any]
    json_body: Any = None
    files: dict[str, Any] | None = None
    victim_slots: frozenset[str] = frozenset()
    # True when the victim's ids are only in the body (a reference, not the route's subject).
    body_only: bool = False

    def send(self, client: httpx.Client) -> httpx.Response:
        kwargs: dict[str, Any] = {"params": self.params}
        if self.files is not None:
            kwargs["files"] = self.files
        elif self.json_body is not None:
            kwargs["json"] = self.json_body
        return client.request(self.method, self.url, **kwargs)

    def sent_text(self) -> str:
        return f"{self.url} {self.params} {self.json_body}"

    def __str__(self) -> str:
        slots = ",".join(sorted(self.victim_slots)) or "-"
        return f"{self.method} {self.url} [victim: {slots}]"


@dataclass
class Plan:
    """What an operation needs: its parameter slots, required plain values, and body."""

    op: Operation
    path_slots: dict[str, str]
    query_slots: dict[str, str]
    plain_query: dict[str, Any]
    body: tuple[str, Any] | None

    @property
    def slots(self) -> set[str]:
        body = set(_slots_in(self.body[1])) if self.body else set()
        return {*self.path_slots.values(), *self.query_slots.values(), *body}

    def call(self, values: dict[str, Any], victim_slots: set[str]) -> Call | None:
        """The request with `values` in its slots; None when a path slot has no value."""
        path = self.op.path
        for name, slot in self.path_slots.items():
            if slot not in values:
                return None
            path = path.replace("{" + name + "}", str(values[slot]))
        params = dict(self.plain_query)
        params.update({n: values[s] for n, s in self.query_slots.items() if s in values})
        kind, template = self.body or (None, None)
        addressed = {*self.path_slots.values(), *self.query_slots.values()}
        made = Call(self.op, self.op.method, path, params, victim_slots=frozenset(victim_slots),
                    body_only=bool(victim_slots) and not victim_slots & addressed)
        if kind == "multipart/form-data":
            made.files = {"file": ("probe.txt", b"probe", "text/plain")}
        else:
            made.json_body = _fill(template, values)
        return made


def plan(op: Operation) -> Plan:
    path_slots: dict[str, str] = {}
    query_slots: dict[str, str] = {}
    plain: dict[str, Any] = {}
    for param in op.doc.get("parameters", []):
        name, where = param["name"], param["in"]
        slot = slot_of(op.path, name, where)
        if where == "path":
            path_slots[name] = slot or ""
            if not slot:
                plain[name] = _sample(param.get("schema", {}), op.components, op.path)
        elif where == "query" and slot:
            query_slots[name] = slot
        elif where == "query" and param.get("required"):
            plain[name] = _sample(param.get("schema", {}), op.components, op.path)
    # Path parameters that name no resource (an enum such as a task kind) get a plain value.
    fixed = {n: v for n, v in plain.items() if n in path_slots}
    path = op.path
    for name, value in fixed.items():
        path = path.replace("{" + name + "}", str(value))
        del path_slots[name], plain[name]
    op_fixed = Operation(op.service, op.method, path, op.doc, op.components) if fixed else op
    return Plan(op_fixed, path_slots, query_slots, plain, body_template(op))


def calls(op: Operation, victim: dict[str, Any], caller: dict[str, Any]) -> list[Call]:
    """The requests that aim an operation at the victim's resources: all its slots the
    victim's (the caller's where the victim has none), then each victim slot alone among the
    caller's own resources (the caller's chat with the victim's folder, the caller's
    collection with the victim's file, ...)."""
    p = plan(op)
    wanted = p.slots
    if not wanted:
        call = p.call({}, set())
        return [call] if call else []
    own = {k: caller[k] for k in wanted & set(caller)}
    aimed = wanted & set(victim)
    found = [p.call({**own, **victim}, aimed)]  # the caller's fill any gap
    if len(aimed) > 1:
        found += [p.call({**own, slot: victim[slot]}, {slot}) for slot in sorted(aimed)]
    return [c for c in found if c is not None]


def each_call(ops: list[Operation], victim: dict[str, Any],
              caller: dict[str, Any]) -> list[Call]:
    return list(itertools.chain.from_iterable(calls(op, victim, caller) for op in ops))
