"""Map every error to JSON `{"detail": ...}` with the status DESIGN.md gives it.

Code below the routes (crud, registries, engines, clients) raises domain errors, which know
nothing of HTTP; the handler installed here maps them to their status once, at the edge:

    DomainError                  .status, .detail, .headers
     ├── BadRequestError           400  the request cannot be acted on as sent
     ├── ForbiddenError            403  the caller may not do this (or it is turned off)
     ├── NotFoundError             404  the thing named does not exist (or is not the caller's)
     ├── RequestTimeoutError       408  the work the caller asked for ran past its time limit
     ├── ConflictError             409  it conflicts with the stored state
     ├── InvalidError              422  well-formed, but its values are not acceptable
     ├── UnavailableError          503  a resource of this service is exhausted or down
     └── UpstreamError             502/503/504  another service or a provider failed us
          └── owui.core.client.ServiceError     (see there: an owui service failed the call)
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import (
    validation_error_definition,
    validation_error_response_definition,
)
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("owui.errors")


class DomainError(Exception):
    """A failure the caller is told about: `status` (per class), `detail`, optional headers."""

    status: int = 400

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class BadRequestError(DomainError):
    status = 400


class ForbiddenError(DomainError):
    status = 403


class NotFoundError(DomainError):
    status = 404


class RequestTimeoutError(DomainError):
    status = 408


class ConflictError(DomainError):
    status = 409


class InvalidError(DomainError):
    status = 422


class UnavailableError(DomainError):
    status = 503


class UpstreamError(DomainError):
    """Another service (or a provider) failed us: 502, 503 or 504, naming it (a call to an
    owui service may also pass on the service's own 4xx: see core.client)."""

    def __init__(self, service: str, status: int, detail: str) -> None:
        super().__init__(detail)
        self.service = service
        self.status = status


def _json(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return _json(exc.status_code, exc.detail, getattr(exc, "headers", None))


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    for error in errors:
        if error.get("type") == "json_invalid":
            return _json(400, f"Malformed JSON body: {error.get('ctx', {}).get('error', '')}")
    return _json(422, validation_detail(errors))


def validation_detail(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """The 422 `detail` of pydantic's errors: where, what, which kind (not the input back)."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]


async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
    return _json(exc.status, exc.detail, exc.headers)


async def _integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
    log.info("integrity error: %s", exc.orig)
    return _json(409, "This conflicts with something already stored.")


async def _changed_meanwhile(request: Request, exc: StaleDataError) -> JSONResponse:
    # The row went (or changed) between reading and writing it: a request at the same time.
    log.info("concurrent change on %s %s: %s", request.method, request.url.path, exc)
    return _json(409, "This was changed or deleted by another request at the same time; "
                      "read it again.")


# Seconds a client is asked to wait when the database is down (a restart takes a few).
DATABASE_RETRY_AFTER = 5


async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
    """Unreachable, restarting or dropped connections (OperationalError, InterfaceError, or
    any error that cost the connection) are 503; the pool replaces the connection, so the
    service recovers by itself once the database is back."""
    if not (exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)):
        return await _unexpected(request, exc)
    service = _service(request)
    log.error("%s database error: %s", service, exc.orig)
    return _json(503, f"The {service} database is unavailable; try again shortly.",
                 {"Retry-After": str(DATABASE_RETRY_AFTER)})


async def _database_busy(request: Request, exc: PoolTimeout) -> JSONResponse:
    """Every pooled connection stayed in use for the pool's timeout: overloaded, not broken."""
    service = _service(request)
    log.error("%s database pool exhausted: %s", service, exc)
    return _json(503, f"The {service} database is busy; try again shortly.",
                 {"Retry-After": "1"})


def _service(request: Request) -> str:
    return getattr(request.app.state, "service", None) or "service's"


async def _too_large(request: Request, exc: OverflowError) -> JSONResponse:
    # A number from the request that the database cannot hold (routes bound those they know).
    log.info("overflow on %s %s: %s", request.method, request.url.path, exc)
    return _json(422, "A number in the request is too large.")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _json(500, "Internal server error; the request id in X-Request-ID finds it in the logs.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(StaleDataError, _changed_meanwhile)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_busy)
    app.add_exception_handler(OverflowError, _too_large)
    app.add_exception_handler(Exception, _unexpected)


ERROR_SCHEMA_NAME = "ErrorDetail"
ERROR_SCHEMA = {"title": ERROR_SCHEMA_NAME, "type": "object", "required": ["detail"],
                "properties": {"detail": {"title": "Detail", "type": "string"}}}


def error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}}}}


def document_errors(app: FastAPI) -> None:
    """Adds to the app's OpenAPI document the errors its routes answer without declaring them
    one by one: 404 where a path names a resource (missing, or another user's), 400 (malformed
    JSON) and 422 where there is a body, and 422 as a message as well as a list of errors."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _declare_errors(generate())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_errors(doc: dict[str, Any]) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    schemas.setdefault("ValidationError", validation_error_definition)
    # A copy: FastAPI's own definition is shared by every app in the process.
    invalid_schema = copy.deepcopy(schemas.get("HTTPValidationError",
                                               validation_error_response_definition))
    listed = invalid_schema["properties"]["detail"]
    if "anyOf" not in listed:  # HTTPException(422, "...") answers a message
        invalid_schema["properties"]["detail"] = {
            "title": "Detail", "anyOf": [{k: v for k, v in listed.items() if k != "title"},
                                         {"type": "string"}]}
    schemas["HTTPValidationError"] = invalid_schema
    invalid = {"description": "Validation Error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "{" in path:
                responses.setdefault("404", error_response("Not found (or not yours)."))
            if "requestBody" in operation:
                responses.setdefault("400", error_response("Malformed JSON body."))
                responses.setdefault("422", invalid)


def not_found_response(description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose body or query names a resource that may not exist."""
    return {404: error_response(description)}
