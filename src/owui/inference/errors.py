"""Error bodies of the calls that both kinds of client read: `{"detail"}` as everywhere in
owui, plus OpenAI's `{"error": {"message", "type", "code"}}`, which the openai SDK puts in its
exceptions. Other routes answer with the frame's plain `{"detail"}`."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Send

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 409: "conflict_error", 422: "invalid_request_error",
          429: "rate_limit_error"}


# The document of `problem`, for the routes that answer with it. `error` is not required: a
# body that is not JSON at all is refused before the route, by the frame's edge check
# (core.jsonbody), with `{"detail"}` alone.
PROBLEM_SCHEMA_NAME = "CallProblem"
PROBLEM_SCHEMA = {
    "title": PROBLEM_SCHEMA_NAME, "type": "object", "required": ["detail"],
    "properties": {
        "detail": {"title": "Detail", "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}]},
        "error": {"title": "Error", "type": "object", "required": ["message", "type", "code"],
                  "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                                 "code": {"type": "integer"}}}}}


def _message(detail: object) -> str:
    if isinstance(detail, list):  # validation errors: "body.temperature: too large; ..."
        return "; ".join(".".join(str(p) for p in e.get("loc", ())) + f": {e.get('msg')}"
                         for e in detail if isinstance(e, dict))
    return str(detail)


def problem(status: int, detail: object) -> dict[str, Any]:
    return {"detail": detail, "error": {"message": _message(detail),
                                        "type": _TYPES.get(status, "api_error"), "code": status}}


async def send_problem(send: Send, status: int, detail: object) -> None:
    """The problem, for a call that answers on the ASGI channel itself (calls.ProviderCall)."""
    payload = json.dumps(problem(status, detail)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})

