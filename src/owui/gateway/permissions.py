"""What a user may do in the web app, in Open WebUI's shape (`permissions` in the sign-in
answer and in `/api/config`). The built-in defaults live in core/access.py (every service reads
the same shape); a user's effective permissions are the deployment's defaults merged with their
groups' (`Runtime.admin.access.permissions_for`)."""

from __future__ import annotations

import copy
from typing import Any

from owui.core.access import DEFAULT_PERMISSIONS


def permissions_of(role: str) -> dict[str, Any]:
    """The built-in defaults, a fresh copy (callers may serialise or change it)."""
    return copy.deepcopy(DEFAULT_PERMISSIONS)
