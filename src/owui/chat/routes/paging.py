"""Open WebUI's paging: `?page=N` (from 1), 60 items a page; no page: everything."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from owui.chat.limits import PAGE_SIZE

Page = Annotated[int | None, Query(ge=1, le=1_000_000, description="From 1; 60 a page.")]


def bounds(page: int | None, size: int = PAGE_SIZE) -> tuple[int, int | None]:
    """Offset and limit of a page; no page means all."""
    if page is None:
        return 0, None
    return (page - 1) * size, size
