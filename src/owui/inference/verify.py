"""Trying a provider URL before it is saved (`/openai/verify`, `/ollama/verify`), and asking one
saved connection for its models (`/openai/models/{url_idx}`): one request, nothing stored.

A URL that does not answer is an upstream failure (502, or 504 when it took too long); a provider
that answers with an error (a wrong key, a wrong path) is the form's fault (400). Each says what
happened and where."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from owui.core.errors import BadRequestError, UpstreamError
from owui.inference.providers.base import error_message

MAX_ANSWER = 20 * 1024 * 1024


async def probe(url: str, path: str, key: str | None, seconds: float) -> Any:
    """GET `url + path` with the key as a bearer token; the provider's JSON answer."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    timeout = aiohttp.ClientTimeout(total=seconds + 10, connect=seconds)
    target = url.rstrip("/") + path
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.get(target, headers=headers, allow_redirects=False) as response:
            body = await response.content.read(MAX_ANSWER)
            if response.status >= 400:
                raise BadRequestError(f"{target} answered HTTP {response.status}: "
                                      f"{error_message(body, response.reason or '')}")
            try:
                return json.loads(body)
            except ValueError:
                raise BadRequestError(f"{target} answered, but not with JSON: is this the "
                                      "provider's base URL?") from None
    except TimeoutError:
        raise UpstreamError("provider", 504,
                            f"{target} did not answer within {seconds:g} s.") from None
    except aiohttp.ClientError as exc:
        raise UpstreamError("provider", 502, f"{target} could not be reached: "
                                             f"{exc or type(exc).__name__}") from None
