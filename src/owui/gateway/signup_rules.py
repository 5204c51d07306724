"""What the admin's auth settings decide for a new or signing-in account: whether sign-up is
open, the new account's role and group, how long a session token lasts."""

from __future__ import annotations

from datetime import timedelta

from fastapi import HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.access import lookup
from owui.core.config import Role, parse_duration
from owui.core.tokens import Claims
from owui.gateway import crud
from owui.gateway.models import GroupMember
from owui.gateway.runtime import Runtime

SIGNUP_OFF = "Sign-up is turned off on this server; ask an admin to add an account for you."


async def check_signup_open(runtime: Runtime) -> None:
    """The first account may always be made (it becomes the admin); later ones only while the
    admin allows sign-up."""
    live = runtime.admin.live
    if not await runtime.accounts.exist():
        return
    if not live["ENABLE_SIGNUP"] or not live["ENABLE_LOGIN_FORM"]:
        raise HTTPException(status.HTTP_403_FORBIDDEN, SIGNUP_OFF)


def default_role(runtime: Runtime) -> Role:
    return runtime.admin.live["DEFAULT_USER_ROLE"]


def token_lifetime(runtime: Runtime) -> timedelta:
    try:
        return parse_duration(runtime.admin.live["JWT_EXPIRES_IN"])
    except ValueError:  # checked when stored; an old or hand-made value falls back to start's
        return runtime.settings.jwt_expires


async def join_default_group(runtime: Runtime, session: AsyncSession, user_id: str) -> None:
    """A new account joins the admin's default group, if one is set and still exists."""
    group_id = runtime.admin.live["DEFAULT_GROUP_ID"]
    if not group_id or await crud.get_group(session, group_id) is None:
        return
    session.add(GroupMember(group_id=group_id, user_id=user_id))
    await session.commit()
    await runtime.admin.access.changed()


def check_api_keys_allowed(request: Request, user: Claims) -> None:
    """A new key needs API keys on (Admin Panel > Settings > General) and, for a non-admin,
    the features.api_keys permission. Keys already made keep working."""
    runtime: Runtime = request.app.state.runtime
    allowed = runtime.admin.live["ENABLE_API_KEYS"] and (
        user.is_admin or lookup(runtime.admin.access.permissions_for(user.sub),
                                "features.api_keys"))
    if not allowed:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "You may not make API keys: API keys are turned off, or you lack the "
                            "'features.api_keys' permission; ask an admin.")
