"""Request bodies that no schema-driven fuzzer sends: bytes that are not JSON, or JSON that
nothing downstream can hold (lone surrogates, NaN, numbers past a double, nesting past any
recursion limit), or well-formed bodies carrying odd values (NUL, huge strings).

A payload is built for one operation from its request body schema, so that a poisoned value
lands in the fields the route really reads (a chat's `title`, a message's `content`) rather
than being refused at the door as an unknown shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = "application/json"
# Free-form objects (a chat, a model's params) get the keys the services read from them.
FREE_FORM_KEYS = ("title", "name", "content", "id")
# Nesting deeper than any recursive parser's limit (Python's is 1,000; orjson stops at 1,024).
DEEP = 100_000


@dataclass(frozen=True)
class Body:
    content: bytes
    content_type: str | None = JSON


Build = Callable[[dict[str, Any], dict[str, Any]], Body | None]


@dataclass(frozen=True)
class Payload:
    name: str
    build: Build  # (schema, components) -> body, or None where it does not apply
    # True: the body is not JSON that a service can hold, so a 400/413/422 is the only answer.
    # False: well-formed and maybe acceptable: anything but a 5xx (and a 4xx says why).
    rejected: bool = True
    # Only for operations whose body must be a JSON object (a scalar or array is then wrong).
    needs_object: bool = False
    # Only for operations whose body is required (an empty body is then wrong).
    needs_body: bool = False


class Raw(bytes):
    """JSON text (or not quite) spliced into a body as it is: a NaN, a 400-digit number,
    `"\\ud800"`, bytes that are not UTF-8."""


def _dumps(value: Any) -> bytes:
    """JSON text of `value`, with `Raw` values written verbatim."""
    if isinstance(value, Raw):
        return bytes(value)
    if isinstance(value, dict):
        return b"{" + b",".join(json.dumps(k).encode() + b":" + _dumps(v)
                                for k, v in value.items()) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(_dumps(v) for v in value) + b"]"
    return json.dumps(value).encode()


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 50:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = components.get("schemas", {}).get(name, {})
        seen += 1
    return schema


def instance(schema: dict[str, Any], components: dict[str, Any], string: Any, number: Any,
             depth: int = 0) -> Any:
    """A value of `schema` with every free string `string` and every number `number`."""
    schema = _resolve(schema, components)
    if depth > 6:
        return {}
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, components).get("type") != "null"]
            return instance(options[0] if options else {}, components, string, number, depth)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve(part, components)
            merged = {**merged, **part,
                      "properties": {**merged.get("properties", {}),
                                     **part.get("properties", {})}}
        return instance(merged, components, string, number, depth)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "string":
        return string
    if kind in ("integer", "number"):
        return number
    if kind == "boolean":
        return True
    if kind == "array":
        return [instance(schema.get("items", {}), components, string, number, depth + 1)]
    properties = schema.get("properties")
    if properties:
        # Optional references to other resources are left out: a poisoned `folder_id` stops
        # the request at a 404 before the poisoned title is ever stored.
        required = set(schema.get("required", ()))
        return {name: instance(sub, components, string, number, depth + 1)
                for name, sub in properties.items()
                if name in required or not name.endswith(("_id", "_ids"))}
    # A free-form object or an untyped value: the keys routes commonly read.
    return {key: string for key in FREE_FORM_KEYS}


def poisoned(string: Any, number: Any = 1) -> Build:
    """The operation's body with the poison in every string (or number) it has; None when it
    has no such field, so that the poison lands nowhere."""
    poisons = [_dumps(p) for p in (string, number) if p not in ("x", 1)]

    def build(schema: dict[str, Any], components: dict[str, Any]) -> Body | None:
        content = _dumps(instance(schema, components, string, number))
        return Body(content) if any(p in content for p in poisons) else None
    return build


def raw(content: bytes, content_type: str | None = JSON) -> Build:
    def build(_schema: dict[str, Any], _components: dict[str, Any]) -> Body:
        return Body(content, content_type)
    return build


def _with_prefix(prefix: bytes) -> Build:
    def build(schema: dict[str, Any], components: dict[str, Any]) -> Body:
        return Body(prefix + _dumps(instance(schema, components, "x", 1)))
    return build


def _truncated(schema: dict[str, Any], components: dict[str, Any]) -> Body:
    whole = _dumps(instance(schema, components, "x", 1))
    return Body(whole[: max(1, len(whole) // 2)] if len(whole) > 2 else b'{"')


# Nesting that orjson accepts (under 1,024 levels) but Python's own recursion (about 1,000
# frames) does not: in every string's place, and as the whole body; storing, echoing or
# parsing it again must not recurse into a 500.
_deep_inside = poisoned(Raw(b"[" * 600 + b"]" * 600))
_deeper_inside = poisoned(Raw(b"[" * 1010 + b"]" * 1010))


def _multipart(_schema: dict[str, Any], _components: dict[str, Any]) -> Body:
    boundary = "malformedboundary"
    content = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
               f"x\r\n--{boundary}--\r\n").encode()
    return Body(content, f"multipart/form-data; boundary={boundary}")


LONE_SURROGATE = Raw(b'"\\ud800"')
# Every operation with a JSON body gets these.
CORE = [
    Payload("deep_arrays", raw(b"[" * DEEP + b"]" * DEEP)),
    Payload("deep_objects", raw(b'{"a":' * 5000 + b"1" + b"}" * 5000)),
    Payload("unclosed_deep", raw(b"[" * DEEP)),
    Payload("invalid_utf8", poisoned(Raw(b'"\xff\xfe"'))),
    Payload("utf8_encoded_surrogate", poisoned(Raw(b'"\xed\xb3\xbf"'))),
    Payload("lone_surrogate", poisoned(LONE_SURROGATE)),
    Payload("lone_low_surrogate", poisoned(Raw(b'"a\\udc00b"'))),
    Payload("lone_surrogate_key", raw(b'{"\\ud800": 1, "title": "x"}')),
    Payload("nul_escaped", poisoned("a\x00b")),
    Payload("nul_raw", poisoned(Raw(b'"a\x00b"'))),
    Payload("number_1e400", poisoned("x", Raw(b"1e400"))),
    Payload("number_400_digits", poisoned("x", Raw(b"1" + b"0" * 400))),
    Payload("number_5000_digits", poisoned("x", Raw(b"9" * 5000))),
    Payload("number_2_pow_64", poisoned("x", Raw(str(2**64).encode())), rejected=False),
    Payload("number_in_string_place", poisoned(Raw(b"1e400"))),
    Payload("nan", poisoned("x", Raw(b"NaN"))),
    Payload("infinity", poisoned("x", Raw(b"Infinity"))),
    Payload("minus_infinity", poisoned(Raw(b"-Infinity"), Raw(b"-Infinity"))),
    Payload("byte_order_mark", _with_prefix(b"\xef\xbb\xbf")),
    Payload("utf16_body", raw('{"title": "x"}'.encode("utf-16"))),
    Payload("truncated", _truncated),
    Payload("trailing_garbage", raw(b'{"title": "x"} }')),
    Payload("single_quotes", raw(b"{'title': 'x'}")),
    Payload("empty", raw(b""), needs_body=True),
    Payload("whitespace_only", raw(b" \n\t "), needs_body=True),
    Payload("scalar_number", raw(b"1"), needs_object=True),
    Payload("scalar_string", raw(b'"x"'), needs_object=True),
    Payload("null", raw(b"null"), needs_object=True),
    Payload("array", raw(b"[]"), needs_object=True),
    Payload("array_of_object", raw(b'[{"title": "x"}]'), needs_object=True),
    Payload("form", raw(b"title=x&name=y", "application/x-www-form-urlencoded"),
            rejected=False),
    Payload("multipart", _multipart, rejected=False),
    Payload("json_without_content_type", raw(b'{"title": "x"}', None), rejected=False),
    Payload("text_plain", raw(b'{"title": "x"}', "text/plain"), rejected=False),
    Payload("string_100kb", poisoned("é" * 50_000), rejected=False),
    Payload("deep_inside_fields", _deep_inside, rejected=False),
    Payload("deeper_inside_fields", _deeper_inside, rejected=False),
    Payload("nested_1020", raw(b"[" * 1020 + b"]" * 1020), needs_object=True),
]
