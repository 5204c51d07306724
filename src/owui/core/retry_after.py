"""owui's own HTTP clients (the CLI, benchmarks) wait as a 429 or 503 tells them to.

A limit or a restarting service answers with `Retry-After: <seconds>`; the client sleeps that
long and sends the same request again, up to `patience` seconds of waiting in all, then hands
the refusal to its caller. Bodies are resent whole: httpx's multipart rewinds its files.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

RETRIED = frozenset({429, 503})
PATIENCE = 300.0


def retry_delay(status: int, retry_after: str | None) -> float | None:
    """Seconds to wait before trying again, None when the answer is to be kept (an HTTP date
    in the header, rare from owui, is not waited for)."""
    if status not in RETRIED or retry_after is None:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        return None


class RetryAfterTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport | None = None, patience: float = PATIENCE,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.patience = patience
        self.sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        waited = 0.0
        while True:
            response = self.inner.handle_request(request)
            delay = retry_delay(response.status_code, response.headers.get("retry-after"))
            if delay is None or waited + delay > self.patience:
                return response
            response.close()
            self.sleep(delay)
            waited += delay

    def close(self) -> None:
        self.inner.close()
