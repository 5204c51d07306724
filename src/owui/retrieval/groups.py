"""The caller's groups, for collections shared with a group: read once per request from the
gateway's signed access header (core.access; none when the service is reached directly) and
kept for the request's queries (access.py, library.py) in a context variable."""

from __future__ import annotations

from contextvars import ContextVar

from fastapi import Depends, Request

from owui.core.access import current_access

_groups: ContextVar[frozenset[str]] = ContextVar("owui_retrieval_groups", default=frozenset())


async def remember_groups(request: Request) -> None:
    _groups.set(current_access(request).groups)


def caller_groups() -> frozenset[str]:
    return _groups.get()


# For every router of the service: `APIRouter(..., dependencies=GROUPS)`.
GROUPS = [Depends(remember_groups)]
