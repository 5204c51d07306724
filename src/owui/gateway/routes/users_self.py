"""`/api/v1/users/...` of the signed-in user: their groups, permissions, status, info and
variables; and the deployment's default permissions (admin). Declared before users.py's
`/{user_id}` routes, so that these words are never taken for an id."""

from __future__ import annotations

import copy
import re
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, status

from owui.core.access import DEFAULT_PERMISSIONS, fill_missing
from owui.core.auth import AdminUser, CurrentUser
from owui.core.service import Session
from owui.gateway import crud, groups
from owui.gateway.live import USER_PERMISSIONS
from owui.gateway.models import User
from owui.gateway.runtime import runtime_of
from owui.gateway.schemas import (
    GroupResponse,
    UserStatusForm,
    UserVariablesForm,
    UserVariablesResponse,
)
from owui.gateway.users_view import group_response

router = APIRouter(prefix="/api/v1/users", tags=["users"])
_VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_VARIABLE_LENGTH = 20_000
MAX_VARIABLES = 200


async def _me(session: Session, user: CurrentUser) -> User:
    found = await crud.get_user(session, user.sub)
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "This account no longer exists.")
    return found


async def groups_answer(request: Request, session: Session, user_id: str,
                        include_inherited: bool) -> list[GroupResponse]:
    access = runtime_of(request).admin.access
    ids = access.groups_of(user_id) if include_inherited else access.direct_groups(user_id)
    found = [g for g in await groups.list_all(session) if g.id in ids]
    counts = await groups.member_counts(session, [g.id for g in found])
    return [group_response(g, counts.get(g.id, 0)) for g in found]


@router.get("/groups", response_model=list[GroupResponse])
async def my_groups(request: Request, session: Session, user: CurrentUser,
                    include_inherited: bool = False) -> list[GroupResponse]:
    return await groups_answer(request, session, user.sub, include_inherited)


@router.get("/permissions")
async def my_permissions(request: Request, user: CurrentUser) -> dict[str, Any]:
    """The signed-in user's effective permissions (defaults merged with their groups')."""
    return runtime_of(request).admin.access.permissions_for(user.sub)


@router.get("/default/permissions")
async def default_permissions(request: Request, _admin: AdminUser) -> dict[str, Any]:
    return fill_missing(runtime_of(request).admin.live[USER_PERMISSIONS])


@router.post("/default/permissions")
async def set_default_permissions(form: dict[str, dict[str, bool]], request: Request,
                                  _admin: AdminUser) -> dict[str, Any]:
    """Every user's permissions before their groups add to them; on every replica within
    about a second (the access headers are signed again)."""
    unknown = sorted(set(form) - set(DEFAULT_PERMISSIONS))
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"Unknown permission section(s): {', '.join(unknown)}; known: "
                            f"{', '.join(DEFAULT_PERMISSIONS)}.")
    stored = fill_missing(form)
    await runtime_of(request).admin.live.update({USER_PERMISSIONS: stored})
    return stored


@router.get("/default/permissions/defaults")
async def built_in_permissions(_admin: AdminUser) -> dict[str, Any]:
    """Open WebUI's built-in defaults (the "reset" of the permissions form)."""
    return copy.deepcopy(DEFAULT_PERMISSIONS)


def _status_on(request: Request) -> None:
    if not runtime_of(request).admin.live["ENABLE_USER_STATUS"]:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "User status is turned off (Admin Panel > Settings > General).")


def _status(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "status_emoji": user.status_emoji,
            "status_message": user.status_message, "status_expires_at": user.status_expires_at}


@router.get("/user/status")
async def my_status(request: Request, session: Session, user: CurrentUser) -> dict[str, Any]:
    _status_on(request)
    return _status(await _me(session, user))


@router.post("/user/status/update")
async def update_my_status(form: UserStatusForm, request: Request, session: Session,
                           user: CurrentUser) -> dict[str, Any]:
    _status_on(request)
    found = await _me(session, user)
    found.status_emoji, found.status_message = form.status_emoji, form.status_message
    found.status_expires_at = form.status_expires_at
    await session.commit()
    return _status(found)


@router.get("/user/info")
async def my_info(session: Session, user: CurrentUser) -> dict[str, Any] | None:
    return (await _me(session, user)).info


@router.post("/user/info/update")
async def update_my_info(form: dict[str, Any], session: Session,
                         user: CurrentUser) -> dict[str, Any] | None:
    """Merged into what is stored (keys given replace theirs, others stay)."""
    found = await _me(session, user)
    merged = {**(found.info or {}), **form}
    try:  # what cannot be written back as JSON is refused before anything is stored
        orjson.dumps(merged)
    except orjson.JSONEncodeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"info cannot be stored: {exc} (at most 254 levels deep).") from None
    found.info = merged
    await session.commit()
    return found.info


@router.get("/user/variables", response_model=UserVariablesResponse)
async def my_variables(session: Session, user: CurrentUser) -> UserVariablesResponse:
    stored = (await _me(session, user)).variables or {}
    return UserVariablesResponse(variables={k: str(v) for k, v in stored.items()})


def _checked_variables(variables: dict[str, Any]) -> dict[str, str]:
    if len(variables) > MAX_VARIABLES:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"At most {MAX_VARIABLES} variables.")
    checked: dict[str, str] = {}
    for name, value in variables.items():
        if not _VARIABLE_NAME.match(name):
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                f"Variable name {name[:80]!r} must start with a-z and hold "
                                f"only a-z, 0-9 and _ (at most 64).")
        if not isinstance(value, str | int | float | bool) or \
                len(str(value)) > MAX_VARIABLE_LENGTH:
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                f"Variable {name!r} must be text of at most "
                                f"{MAX_VARIABLE_LENGTH} characters.")
        checked[name] = str(value)
    return checked


@router.post("/user/variables/update", response_model=UserVariablesResponse)
async def update_my_variables(form: UserVariablesForm, session: Session,
                              user: CurrentUser) -> UserVariablesResponse:
    """The user's variables ({{user.variables.NAME}} in prompts), replaced whole."""
    variables = _checked_variables(form.variables)
    found = await _me(session, user)
    found.variables = variables
    await session.commit()
    return UserVariablesResponse(variables=variables)
