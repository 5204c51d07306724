"""How a stored user is shown."""

from __future__ import annotations

from owui.gateway.models import User
from owui.gateway.schemas import SessionUserResponse, UserModel


def user_model(user: User) -> UserModel:
    return UserModel(id=user.id, email=user.email, name=user.name, role=user.role,  # type: ignore[arg-type]
                     profile_image_url=user.profile_image_url,
                     last_active_at=user.last_active_at, updated_at=user.updated_at,
                     created_at=int(user.created_at))


def session_user(user: User, token: str, expires_at: int | None) -> SessionUserResponse:
    return SessionUserResponse(id=user.id, email=user.email, name=user.name,
                               role=user.role,  # type: ignore[arg-type]
                               profile_image_url=user.profile_image_url, token=token,
                               expires_at=expires_at)
