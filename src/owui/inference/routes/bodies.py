"""Request bodies of the routes that send them on to a provider: read (bounded), parsed as a
JSON object, checked against a form; the body itself goes on as it came."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.types import Receive

from owui.core import jsonbody
from owui.core.errors import BadRequestError, DomainError, InvalidError

Form = TypeVar("Form", bound=BaseModel)


class BodyTooLarge(DomainError):
    status = 413


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body from the ASGI channel (core.jsonbody's reader), as domain errors."""
    try:
        raw = await jsonbody.read_body(receive, limit)
    except jsonbody.BodyTooLarge as exc:
        raise BodyTooLarge(str(exc)) from None
    if raw is None:
        raise BadRequestError("The client went away before its request was read.")
    return raw


async def json_body(request: Request) -> dict[str, Any]:
    return parse_body(await request.body())


def parse_body(raw: bytes) -> dict[str, Any]:
    # The edge check's parser (core.jsonbody): one judgement of what JSON a service takes.
    try:
        body = jsonbody.loads(raw)
    except jsonbody.MalformedJson as exc:
        raise BadRequestError(str(exc)) from None
    if not isinstance(body, dict):
        raise InvalidError("The body must be a JSON object.")
    return body


def check(form: type[Form], body: dict[str, Any]) -> Form:
    """Validate a body that is then sent on as it is; 422 names each bad field."""
    try:
        return form.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors(include_url=False)]) from None
