"""The caller's groups and permissions, for collections shared with a group: read once per
request from the gateway's signed access header (core.access; none when the service is reached
directly) and kept for the request's queries (access.py, library.py) in a context variable."""

from __future__ import annotations

from contextvars import ContextVar

from fastapi import Depends, Request

from owui.core.access import Access, current_access

_NOBODY = Access(user_id="", role="user", groups=frozenset(), permissions={})
_access: ContextVar[Access] = ContextVar("owui_retrieval_access", default=_NOBODY)


async def remember_groups(request: Request) -> None:
    _access.set(current_access(request))


def caller_groups() -> frozenset[str]:
    return _access.get().groups


def caller_access() -> Access:
    """The caller's groups and permissions (sharing checks: core.sharing)."""
    return _access.get()


# For every router of the service: `APIRouter(..., dependencies=GROUPS)`.
GROUPS = [Depends(remember_groups)]
