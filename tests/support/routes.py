"""Every route of a FastAPI app with its full path, through the routers it includes (FastAPI
keeps an included router as one entry of `app.routes`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def routes_of(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) of every route, through included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from routes_of(included.routes, prefix + route.include_context.prefix)
        else:
            yield prefix + getattr(route, "path", ""), route
