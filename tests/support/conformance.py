"""Answers as Open WebUI's does: the comparison behind tests/webapp/test_conformance.py.

Open WebUI 0.12.4's reference material (`openwebui-0.12.4-samples.json`, real answers, and
`openwebui-0.12.4-openapi.json`, its API document) is read from `OWUI_REFERENCE_DIR`, by default
`../shared/reference` beside the repository. An operation's answer conforms when it has the same
status and its JSON answer has every key Open WebUI's answer has, with the same JSON types,
recursively; extra keys are fine. The reference is, per operation, one of:

- `Sample(key)`: the answer stored under `key` in the samples file. Walked together with the
  operation's response schema in the API document (where it has one), which gives the type of
  what the sample cannot show (a null). The rules, where the sample holds
    an object: every key of it must be in owui's object, each value compared by these rules.
      Under an object whose keys are data (`maps`: message ids, version numbers, changelog
      sections) only the keys named as its fields are required; each of owui's values is
      compared with the sample's value under the same key, else with the sample's first value
      of the same JSON type (a kind of value the sample does not show is not compared);
    a list: each of owui's items is compared with the sample's first item (or, where `variants`
      names a field such as `role`, with the sample's first item of the same kind; an item of a
      kind the sample does not show is not compared). A list the sample fills must not come back
      empty: the fixtures make what the sample shows, and an empty list would check nothing
      (except where `may_be_empty` names the list and says why the fixtures cannot fill it). An
      empty sample list checks only that owui answers a list;
    a string, boolean, integer or number: owui's value must be of that JSON type (an integer
      where the sample has a number is fine, a number with a fraction where it has an integer
      is not: Open WebUI's timestamps and counts are integers);
    null: the key must be there, and its value must be null or of a type the response schema
      allows at that place (a schema's null only where it allows null). Where the document
      gives no schema for that place, owui must answer null as well: a type nobody wrote down is
      not a match, and the fixtures make the state in which the sample was taken.
- `Schema()`: the operation's 200 response schema in the API document, for operations the samples
  do not hold. `$ref` is resolved, `anyOf`/`oneOf` accept a value that matches one branch
  (`nullable`, a `null` branch or a `null` type accept null), `allOf` must all match. An object's
  required properties must be present with matching types; its other properties are checked when
  present; `additionalProperties` with a schema checks the remaining values; array items are
  checked one by one. A schema that says nothing (`{}`) accepts anything: such an operation needs
  a sample or a `Shape`.
- `Shape(value, source)`: an answer written in the test table where Open WebUI's document has no
  schema and the samples no entry, compared by the sample rules; `source` says where the shape
  was read (Open WebUI's protocol, never its code copied).
- `Image()`: a profile image: 200 with an `image/*` body (the web app loads it in `<img>`).
- `Cookie(key)`: the `token` cookie of a `Set-Cookie` header: the sample's attributes must all be
  there, `Path` and `SameSite` with the same values.

Failure messages name the operation and list every JSON path that is missing or of the wrong type,
all at once. An operation of a later issue (`pending`) that is not served yet (404) is reported
as an expected failure naming that issue, never skipped; once served it is checked in full.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from tests.support.procs import REPO

REFERENCE_DIR = Path(os.environ.get("OWUI_REFERENCE_DIR") or REPO.parent / "shared" / "reference")
SAMPLES = "openwebui-0.12.4-samples.json"
OPENAPI = "openwebui-0.12.4-openapi.json"
UNKNOWN: dict[str, Any] = {}  # a schema that says nothing


@cache
def _load(name: str) -> Any:
    path = REFERENCE_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"{path}: Open WebUI's reference material is not there; set "
                                "OWUI_REFERENCE_DIR to the folder holding it")
    return json.loads(path.read_text())


def samples() -> dict[str, Any]:
    return _load(SAMPLES)


def openapi() -> dict[str, Any]:
    return _load(OPENAPI)


# ---- references ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    key: str
    drop: tuple[str, ...] = ()  # top-level keys the sample has that this request's answer has not

    def value(self) -> Any:
        value = samples()[self.key]
        if self.drop:
            value = {k: v for k, v in value.items() if k not in self.drop}
        return value


@dataclass(frozen=True)
class Schema:
    pass


@dataclass(frozen=True)
class Shape:
    value: Any
    source: str


@dataclass(frozen=True)
class Image:
    pass


@dataclass(frozen=True)
class Cookie:
    key: str
    name: str = "token"


Reference = Sample | Schema | Shape | Image | Cookie


def response_schema(method: str, path: str, status: int = 200) -> dict[str, Any]:
    """The operation's JSON response schema in Open WebUI's document (UNKNOWN if none)."""
    operation = openapi()["paths"].get(path, {}).get(method.lower())
    if operation is None:
        raise KeyError(f"{method} {path} is not in Open WebUI's API document")
    content = operation.get("responses", {}).get(str(status), {}).get("content", {})
    return content.get("application/json", {}).get("schema", UNKNOWN)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = openapi()["components"]["schemas"][name]
    return schema


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The concrete alternatives of a schema (anyOf/oneOf flattened, $ref resolved)."""
    schema = _resolve(schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return [b for a in alternatives for b in _branches(a)]
    return [schema]


def _says_nothing(schema: dict[str, Any]) -> bool:
    return not any(k in schema for k in ("type", "properties", "items", "anyOf", "oneOf",
                                         "allOf", "$ref", "const", "enum"))


def _child(schema: dict[str, Any] | None, key: str | int) -> dict[str, Any] | None:
    """The schema of `key` (a property name, or an index for an array's items) inside `schema`,
    or None when the document does not say."""
    if schema is None:
        return None
    found: list[dict[str, Any]] = []
    for branch in _branches(schema):
        if isinstance(key, int):
            if isinstance(branch.get("items"), dict):
                found.append(branch["items"])
        elif key in branch.get("properties", {}):
            found.append(branch["properties"][key])
        elif isinstance(branch.get("additionalProperties"), dict):
            found.append(branch["additionalProperties"])
    found = [f for f in found if not _says_nothing(_resolve(f))]
    if not found:
        return None
    return found[0] if len(found) == 1 else {"anyOf": found}


# ---- JSON types ----------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def _type_fits(actual: str, expected: str) -> bool:
    return actual == expected or (expected == "number" and actual == "integer")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


# ---- schema check --------------------------------------------------------------------------


def check_schema(actual: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Problems of `actual` against a response schema; [] when it conforms."""
    schema = _resolve(schema)
    if "allOf" in schema:
        return [p for part in schema["allOf"] for p in check_schema(actual, part, path)]
    branches = _branches(schema)
    if len(branches) > 1:
        allowed = [_schema_types(b) for b in branches]
        got = json_type(actual)
        if all(types and not any(_type_fits(got, t) for t in types) for types in allowed):
            wanted = " or ".join(sorted(set().union(*allowed)))
            return [f"{path}: {wanted} expected, got {got} {_show(actual)}"]
    best: list[str] | None = None
    for branch in branches:
        problems = _check_branch(actual, branch, path)
        if not problems:
            return []
        # Report the branch of owui's type (an object against the object branch, ...).
        if best is None or len(problems) < len(best):
            best = problems
    return best or []


def _schema_types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    types = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    if not types and "properties" in schema:
        types = {"object"}
    if "const" in schema and not types:
        types = {json_type(schema["const"])}
    if schema.get("nullable"):
        types.add("null")
    return types


def _check_branch(actual: Any, schema: dict[str, Any], path: str) -> list[str]:
    if "allOf" in schema or "anyOf" in schema or "oneOf" in schema or "$ref" in schema:
        return check_schema(actual, schema, path)
    types = _schema_types(schema)
    got = json_type(actual)
    if types and not any(_type_fits(got, t) for t in types):
        return [f"{path}: {' or '.join(sorted(types))} expected, got {got} {_show(actual)}"]
    problems: list[str] = []
    if got == "object":
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in actual:
                wanted = " or ".join(sorted(_schema_types(_resolve(properties.get(name, {})))))
                problems.append(f"{path}.{name}: missing ({wanted or 'any type'})")
        extra = schema.get("additionalProperties")
        for name, value in actual.items():
            if name in properties:
                problems += check_schema(value, properties[name], f"{path}.{name}")
            elif isinstance(extra, dict):
                problems += check_schema(value, extra, f"{path}.{name}")
    elif got == "array" and isinstance(schema.get("items"), dict):
        for index, item in enumerate(actual):
            problems += check_schema(item, schema["items"], f"{path}[{index}]")
    return problems


# ---- sample comparison ---------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where a sample's containers hold data rather than fields (patterns: `$.a.b`, list items
    as `[*]`, map values as `.*`)."""

    maps: dict[str, tuple[str, ...]] = field(default_factory=dict)  # pattern: its field keys
    variants: dict[str, str] = field(default_factory=dict)
    # Lists whose items come from the stand-in provider's words, which the test's stand-in does
    # not give (pattern: why): an empty one is accepted, items are still compared.
    may_be_empty: dict[str, str] = field(default_factory=dict)


def compare(actual: Any, expected: Any, schema: dict[str, Any] | None,
            layout: Layout = Layout(), path: str = "$", pattern: str = "$") -> list[str]:
    """Problems of `actual` against the sample `expected` (rules in the module docstring)."""
    if expected is None:
        if schema is not None:
            return check_schema(actual, schema, path)
        if actual is None:
            return []
        return [f"{path}: null expected (Open WebUI answers null and its document gives no "
                f"type here), got {json_type(actual)} {_show(actual)}"]
    want, got = json_type(expected), json_type(actual)
    if not _type_fits(got, want):
        return [f"{path}: {want} expected, got {got} {_show(actual)}"]
    if want == "object" and pattern in layout.maps:
        return _compare_map(actual, expected, layout.maps[pattern], layout, path, pattern)
    if want == "object":
        problems: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing ({_describe(value, _child(schema, key))})")
            else:
                problems += compare(actual[key], value, _child(schema, key), layout,
                                    f"{path}.{key}", f"{pattern}.{key}")
        return problems
    if want == "array":
        if expected and not actual and pattern not in layout.may_be_empty:
            return [f"{path}: empty list, where Open WebUI's has items (nothing to compare)"]
        return _compare_items(actual, expected, schema, layout, path, pattern)
    return []


def _compare_map(actual: dict[str, Any], expected: dict[str, Any], fields: tuple[str, ...],
                 layout: Layout, path: str, pattern: str) -> list[str]:
    """An object whose keys are data (ids, versions, section names) besides a few `fields`:
    the fields must be there; every other value is compared with the sample's value under the
    same key, else with its first value of the same JSON type (none: a kind the sample does not
    show, not compared)."""
    problems = [f"{path}.{key}: missing ({json_type(expected[key])})" for key in fields
                if key in expected and key not in actual]
    kind = layout.variants.get(pattern)
    for key, value in actual.items():
        if key in expected:
            reference = expected[key]
        else:
            found = _reference_for(value, [v for k, v in expected.items() if k not in fields],
                                   kind)
            if found is None:
                continue
            reference = found
        problems += compare(value, reference, None, layout, f"{path}.{key}", pattern + ".*")
    return problems


def _reference_for(item: Any, candidates: list[Any], kind: str | None) -> Any:
    """The first candidate of the item's JSON type (and, with `kind`, of its kind); None if
    there is none."""
    for candidate in candidates:
        if json_type(candidate) != json_type(item):
            continue
        if kind is not None and not (isinstance(item, dict)
                                     and candidate.get(kind) == item.get(kind)):
            continue
        return candidate
    return None


def _compare_items(actual: list[Any], expected: list[Any], schema: dict[str, Any] | None,
                   layout: Layout, path: str, pattern: str) -> list[str]:
    """A list's items, each against the sample's first item (of its kind, with `variants`)."""
    if not expected:
        return []
    kind = layout.variants.get(pattern)
    item_schema = _child(schema, 0)
    problems: list[str] = []
    for index, item in enumerate(actual):
        reference = _reference_for(item, expected, kind) if kind else expected[0]
        if kind and reference is None:
            continue  # a kind of item the sample does not show
        problems += compare(item, reference, item_schema, layout, f"{path}[{index}]",
                            pattern + "[*]")
    return problems


def _describe(value: Any, schema: dict[str, Any] | None) -> str:
    if value is None and schema is not None:
        types = {t for b in _branches(schema) for t in _schema_types(b)}
        return " or ".join(sorted(types)) or "any type"
    return json_type(value)


# ---- one operation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One call of the web app: `path` is Open WebUI's template (its document's key); `call`
    makes the request against a prepared world and returns the answer."""

    method: str
    path: str
    owner: str
    reference: Reference
    call: Callable[[Any], httpx.Response]
    label: str = ""  # tells apart two calls of one operation (with or without a token, ...)
    status: int = 200
    layout: Layout = Layout()
    # The issue that brings an operation not served yet: while it answers 404 the test says so
    # as an expected failure naming that issue; once it answers, it is checked in full.
    pending: str = ""

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.label})" if self.label else "")


def problems_of(operation: Operation, response: httpx.Response) -> list[str]:
    """Every way the answer differs from Open WebUI's; [] when it conforms."""
    if response.status_code != operation.status:
        return [f"status {response.status_code}, Open WebUI answers {operation.status}: "
                f"{response.text[:200]}"]
    reference = operation.reference
    if isinstance(reference, Image):
        kind = response.headers.get("content-type", "")
        if not kind.startswith("image/") or not response.content:
            return [f"an image expected, got {kind or 'no content type'} "
                    f"({len(response.content)} bytes)"]
        return []
    if isinstance(reference, Cookie):
        return _cookie_problems(response, reference)
    try:
        actual = response.json()
    except ValueError:
        return [f"JSON expected, got {response.headers.get('content-type')}: "
                f"{response.text[:200]}"]
    if isinstance(reference, Schema):
        schema = response_schema(operation.method, operation.path, operation.status)
        return check_schema(actual, schema)
    expected = reference.value() if isinstance(reference, Sample) else reference.value
    schema = response_schema(operation.method, operation.path, operation.status)
    return compare(actual, expected, None if _says_nothing(schema) else schema,
                   operation.layout)


def _cookie_problems(response: httpx.Response, reference: Cookie) -> list[str]:
    sent = _cookies(response.headers.get_list("set-cookie"), reference.name)
    if sent is None:
        return [f"no '{reference.name}' cookie set"]
    wanted = _cookies(samples()[reference.key], reference.name)
    assert wanted is not None, f"the sample {reference.key!r} sets no {reference.name} cookie"
    problems = []
    for attribute, value in wanted.items():
        if attribute not in sent:
            problems.append(f"Set-Cookie {reference.name}: {attribute} missing")
        elif attribute in ("path", "samesite") and sent[attribute].lower() != value.lower():
            problems.append(f"Set-Cookie {reference.name}: {attribute}={sent[attribute]}, "
                            f"Open WebUI's is {value}")
    return problems


def _cookies(headers: list[str], name: str) -> dict[str, str] | None:
    """The attributes (lower-case names; a flag's value is '') of cookie `name`."""
    for header in headers:
        first, *attributes = (part.strip() for part in header.split(";"))
        if first.partition("=")[0].strip() == name:
            pairs = (a.partition("=") for a in attributes if a)
            return {key.strip().lower(): value.strip() for key, _, value in pairs}
    return None


def report(operation: Operation, problems: list[str]) -> str:
    lines = "\n  ".join(problems)
    return f"{operation.name} ({operation.owner}) does not answer as Open WebUI's does:\n  {lines}"
