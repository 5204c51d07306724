"""What the admin's auth settings decide for a new or signing-in account: whether sign-up is
open, the new account's role and group, how long a session token lasts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.access import lookup, permission_denied, require_permission
from owui.core.auth import current_user
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


def gateway_permission(key: str) -> Callable[[Request], Awaitable[Claims]]:
    """`core.access.require_permission` for the gateway's own routes, which read the user's
    permissions from the access state itself (no signed header reaches them)."""
    require_permission(key)  # refuses an unknown name at import, as services' routes do

    async def dependency(request: Request) -> Claims:
        user = await current_user(request)
        runtime: Runtime = request.app.state.runtime
        if not user.is_admin and not lookup(runtime.admin.access.permissions_for(user.sub), key):
            raise permission_denied(key)
        return user

    dependency.permission = key  # type: ignore[attr-defined]  # found by tests/authz
    return dependency


def check_api_keys_on(request: Request) -> None:
    """New keys need API keys on (Admin Panel > Settings > General), even for an admin, as in
    Open WebUI (while they are off, the front door refuses the keys already made too)."""
    runtime: Runtime = request.app.state.runtime
    if not runtime.admin.live["ENABLE_API_KEYS"]:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "API keys are turned off on this server; an admin turns them on in "
                            "Admin Panel > Settings > General.")


_may_make_keys = gateway_permission("features.api_keys")


async def api_key_maker(request: Request) -> Claims:
    check_api_keys_on(request)
    return await _may_make_keys(request)


api_key_maker.permission = "features.api_keys"  # type: ignore[attr-defined]
ApiKeyUser = Annotated[Claims, Depends(api_key_maker)]
