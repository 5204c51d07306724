"""`/api/v1/users` (admin): list, read, change role or name, delete."""

from __future__ import annotations

import base64
import binascii
import re
import time
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse, RedirectResponse

from owui.core.auth import AdminUser, CurrentUser
from owui.core.passwords import hash_in_thread
from owui.core.service import Session
from owui.gateway import crud
from owui.gateway.models import User
from owui.gateway.runtime import runtime_of
from owui.gateway.schemas import UserListResponse, UserModel, UserUpdateForm
from owui.gateway.users_view import user_model
from owui.gateway.webapp.build import INSTALL_HINT
from owui.gateway.webapp.files import default_user_image

router = APIRouter(prefix="/api/v1/users", tags=["users"])
PAGE_SIZE = 30
_IMAGE_TYPE = re.compile(r"^image/[A-Za-z0-9.+-]{1,64}$")
# Open WebUI's fixed words under /api/v1/users that owui does not serve: never an id.
FIXED_WORDS = frozenset({"all", "search", "groups", "permissions", "default", "usage", "user"})


async def _get(session: Session, user_id: str) -> User:
    if user_id in FIXED_WORDS:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"/api/v1/users/{user_id} is not served by owui.")
    user = await crud.get_user(session, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user {user_id!r}.")
    return user


async def _cut_off_tokens(request: Request, session: Session, user_id: str) -> None:
    """Tokens issued before now stop working: the user signs in again with their new role."""
    runtime = runtime_of(request)
    settings = runtime.settings
    now = time.time()
    await runtime.revocations.revoke(session, "user", user_id, issued_before=now,
                                     expires_at=now + settings.jwt_expires.total_seconds())


@router.get("/", response_model=UserListResponse)
async def list_users(
    session: Session, _admin: AdminUser,
    query: str | None = None,
    order_by: Literal["created_at", "last_active_at", "name", "email", "role"] = "created_at",
    direction: Literal["asc", "desc"] = "asc",
    page: int = Query(1, ge=1, le=1_000_000),  # the offset must fit a database integer
) -> UserListResponse:
    users, total = await crud.list_users(session, query=query, order_by=order_by,
                                         descending=direction == "desc", page=page,
                                         per_page=PAGE_SIZE)
    return UserListResponse(users=[user_model(u) for u in users], total=total)


@router.get("/{user_id}", response_model=UserModel)
async def get_user(user_id: str, session: Session, _admin: AdminUser) -> UserModel:
    return user_model(await _get(session, user_id))


@router.get("/{user_id}/profile/image", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "The image."},
                       302: {"description": "The image is at another address."}})
async def get_profile_image(user_id: str, request: Request, session: Session,
                            _user: CurrentUser) -> Response:
    """A user's image (any signed-in user may see it, as in Open WebUI): a URL they set, an
    image they uploaded (a data: URL), else the web app's default `user.png`."""
    user = await _get(session, user_id)
    stored = user.profile_image_url or ""
    if stored.startswith(("https://", "http://")):
        return RedirectResponse(stored, status.HTTP_302_FOUND)
    media_type, _, data = stored.removeprefix("data:").partition(";base64,")
    if stored.startswith("data:") and _IMAGE_TYPE.match(media_type) and data:
        try:
            return Response(base64.b64decode(data, validate=True), media_type=media_type,
                            headers={"Cache-Control": "no-cache"})
        except (binascii.Error, ValueError):
            pass  # a damaged upload: the default image instead
    default = default_user_image(runtime_of(request).webapp.current())
    if default is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"User {user_id!r} has set no profile image, and the web app that "
                            f"holds the default one is not installed: {INSTALL_HINT}.")
    return FileResponse(default, headers={"Cache-Control": "no-cache"})


@router.post("/{user_id}/update", response_model=UserModel)
async def update_user(user_id: str, form: UserUpdateForm, request: Request, session: Session,
                      admin: AdminUser) -> UserModel:
    user = await _get(session, user_id)
    demoting = form.role is not None and form.role != "admin" and user.role == "admin"
    if demoting and await crud.count_admins(session) <= 1:
        raise HTTPException(status.HTTP_409_CONFLICT, "This is the last admin; promote another "
                                                      "user before changing this one's role.")
    if form.email and crud.normalize_email(form.email) != user.email:
        if await crud.get_user_by_email(session, form.email) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, "That email is already taken.")
        user.email = crud.normalize_email(form.email)
    role_changed = form.role is not None and form.role != user.role
    if form.role is not None:
        user.role = form.role
    if form.name is not None:
        user.name = form.name.strip()
    if form.profile_image_url is not None:
        user.profile_image_url = form.profile_image_url
    if form.password is not None:
        user.password_hash = await hash_in_thread(form.password)
    await session.commit()
    if role_changed or form.password is not None:
        await _cut_off_tokens(request, session, user.id)
    return user_model(user)


@router.delete("/{user_id}")
async def delete_user(user_id: str, request: Request, session: Session,
                      admin: AdminUser) -> bool:
    if user_id == admin.sub:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "You cannot delete your own account.")
    user = await _get(session, user_id)
    await session.delete(user)
    await session.commit()
    await _cut_off_tokens(request, session, user_id)
    return True
