"""How a stored user is shown."""

from __future__ import annotations

from owui.gateway.models import User
from owui.gateway.permissions import permissions_of
from owui.gateway.schemas import SessionUserInfoResponse, SessionUserResponse, UserModel


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


def session_user(user: User, token: str, expires_at: int | None) -> SessionUserResponse:
    return SessionUserResponse(id=user.id, email=user.email, name=user.name,
                               role=user.role,  # type: ignore[arg-type]
                               profile_image_url=image_url(user), token=token,
                               expires_at=expires_at, permissions=permissions_of(user.role))


def session_user_info(user: User, token: str, expires_at: int | None) -> SessionUserInfoResponse:
    return SessionUserInfoResponse(
        **session_user(user, token, expires_at).model_dump(), bio=user.bio, gender=user.gender,
        date_of_birth=user.date_of_birth, timezone=user.timezone,
        status_emoji=user.status_emoji, status_message=user.status_message,
        status_expires_at=user.status_expires_at)
