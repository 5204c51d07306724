"""Error bodies that both kinds of client read: `{"detail"}` as everywhere in owui, plus
OpenAI's `{"error": {"message", "type", "code"}}`, which the openai SDK puts in its exceptions."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Send

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 409: "conflict_error", 422: "invalid_request_error",
          429: "rate_limit_error"}


def _message(detail: object) -> str:
    if isinstance(detail, list):  # validation errors: "body.temperature: too large; ..."
        return "; ".join(".".join(str(p) for p in e.get("loc", ())) + f": {e.get('msg')}"
                         for e in detail if isinstance(e, dict))
    return str(detail)


def problem(status: int, detail: object) -> dict[str, Any]:
    return {"detail": detail, "error": {"message": _message(detail),
                                        "type": _TYPES.get(status, "api_error"), "code": status}}


async def send_problem(send: Send, status: int, detail: object) -> None:
    payload = json.dumps(problem(status, detail)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def install_openai_errors(app: FastAPI) -> None:
    """Wrap the frame's handlers for client errors, adding OpenAI's error object."""
    for kind in (StarletteHTTPException, RequestValidationError):
        inner = app.exception_handlers[kind]

        async def handler(request: Request, exc: Exception, inner: Any = inner) -> Response:
            response = await inner(request, exc)
            body = json.loads(response.body)
            headers = {k: v for k, v in response.headers.items() if k != "content-length"}
            return JSONResponse(problem(response.status_code, body.get("detail")),
                                response.status_code, headers=headers)

        app.add_exception_handler(kind, handler)
