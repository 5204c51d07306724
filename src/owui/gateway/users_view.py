"""How a stored user is shown."""

from __future__ import annotations

import time
from typing import Any

from owui.gateway.models import Group, User
from owui.gateway.schemas import (
    GroupResponse,
    SessionUserInfoResponse,
    SessionUserResponse,
    UserInfoResponse,
    UserListItem,
    UserModel,
)


def image_url(user: User) -> str:
    """Where the web app fetches the user's image, as Open WebUI answers it: always by id
    (the route redirects to a URL the user set, or decodes an uploaded data: image), so that
    no answer carries an uploaded image inline."""
    return f"/api/v1/users/{user.id}/profile/image"


def user_model(user: User) -> UserModel:
    return UserModel(id=user.id, email=user.email, name=user.name, role=user.role,  # type: ignore[arg-type]
                     profile_image_url=image_url(user),
                     last_active_at=user.last_active_at, updated_at=user.updated_at,
                     created_at=int(user.created_at))


def session_user(user: User, token: str, expires_at: int | None,
                 permissions: dict[str, Any]) -> SessionUserResponse:
    return SessionUserResponse(id=user.id, email=user.email, name=user.name,
                               role=user.role,  # type: ignore[arg-type]
                               profile_image_url=image_url(user), token=token,
                               expires_at=expires_at, permissions=permissions)


def session_user_info(user: User, token: str, expires_at: int | None,
                      permissions: dict[str, Any]) -> SessionUserInfoResponse:
    return SessionUserInfoResponse(
        **session_user(user, token, expires_at, permissions).model_dump(), bio=user.bio,
        gender=user.gender, date_of_birth=user.date_of_birth, timezone=user.timezone,
        status_emoji=user.status_emoji, status_message=user.status_message,
        status_expires_at=user.status_expires_at)


# A user seen within this many seconds counts as active (the Users page's green dot).
ACTIVE_SECONDS = 180


def is_active(user: User) -> bool:
    return user.last_active_at >= time.time() - ACTIVE_SECONDS


def user_info(user: User, groups: list[Any] | None = None) -> UserInfoResponse:
    return UserInfoResponse(id=user.id, name=user.name, email=user.email, role=user.role,
                            bio=user.bio, last_active_at=user.last_active_at,
                            timezone=user.timezone, status_emoji=user.status_emoji,
                            status_message=user.status_message,
                            status_expires_at=user.status_expires_at, groups=groups or [],
                            is_active=is_active(user))


def group_response(group: Group, member_count: int | None) -> GroupResponse:
    return GroupResponse(id=group.id, user_id=group.user_id, name=group.name,
                         description=group.description, parent_group_id=group.parent_group_id,
                         data=group.data, meta=group.meta, permissions=group.permissions,
                         created_at=group.created_at, updated_at=group.updated_at,
                         member_count=member_count)


def list_item(user: User, group_ids: list[str]) -> UserListItem:
    return UserListItem(**user_model(user).model_dump(), bio=user.bio, gender=user.gender,
                        date_of_birth=user.date_of_birth, timezone=user.timezone,
                        status_emoji=user.status_emoji, status_message=user.status_message,
                        status_expires_at=user.status_expires_at, info=user.info,
                        group_ids=group_ids)
