"""Request id, access log and request metrics, as raw ASGI so that they cost microseconds on
every request."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from owui.core.asgi import header, send_error
from owui.core.logging import AccessLog, request_id_var

access_log = AccessLog()
log = logging.getLogger("owui.errors")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Takes the caller's `X-Request-ID` (or makes one), logs it, and echoes it back; hands
    each finished request to `observe` (core.metrics.RequestMetrics) when metrics are on."""

    def __init__(self, app: ASGIApp, access_log_enabled: bool = True,
                 observe: Callable[[Scope, int, float], None] | None = None) -> None:
        self.app = app
        self.access_log_enabled = access_log_enabled
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = header(scope, b"x-request-id")
        request_id = incoming if incoming and _VALID_ID.match(incoming) else os.urandom(16).hex()
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 0
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", raw_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The last line of defence for raw-ASGI paths that no framework handler covers.
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if status:
                raise
            await send_error(send_with_id, 500, "Internal server error; the request id in "
                                                "X-Request-ID finds it in the logs.")
        finally:
            seconds = time.perf_counter() - start
            if self.observe is not None:
                self.observe(scope, status or 499, seconds)  # 499: the client left first
            if self.access_log_enabled:
                access_log(scope["method"], scope["path"], status, seconds)
            request_id_var.reset(token)
