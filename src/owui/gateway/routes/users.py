"""`/api/v1/users` (admin): the Users page: list and search, read, change, revoke sessions,
delete; any signed-in user: another user's card (info, active, image) and the user search the
sharing dialogs use. The signed-in user's own routes are in users_self.py."""

from __future__ import annotations

import base64
import binascii
import re
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse, RedirectResponse

from owui.core.access import lookup
from owui.core.auth import AdminUser, CurrentUser
from owui.core.errors import not_found_response
from owui.core.passwords import hash_in_thread
from owui.core.service import Session
from owui.core.tokens import Claims
from owui.gateway import crud, groups
from owui.gateway.models import User
from owui.gateway.routes.users_self import groups_answer
from owui.gateway.runtime import runtime_of
from owui.gateway.schemas import (
    GroupResponse,
    UserActiveResponse,
    UserGroupIdsListResponse,
    UserInfoListResponse,
    UserInfoResponse,
    UserModel,
    UserUpdateForm,
)
from owui.gateway.users_view import image_url, is_active, list_item, user_info, user_model
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


Order = Literal["created_at", "last_active_at", "updated_at", "name", "email", "role"]
# The Users page's orders, and the group dialog's `group_id:<id>`: the group's members first
# (its Users tab lists everyone that way, to tick or clear each). ASCII classes: pydantic's
# Rust regex compiles Unicode `\w` repeated 100 times into ~12 MB, held by the gateway for good.
PAGE_ORDER = (r"^(created_at|last_active_at|updated_at|name|email|role"
              r"|group_id:[A-Za-z0-9_-]{1,100})$")


async def _page(session: Session, query: str | None, order_by: str | None,
                direction: Literal["asc", "desc"] | None, page: int) -> tuple[list[User], int]:
    first: list[str] = []
    if order_by and order_by.startswith("group_id:"):
        first = await groups.member_ids(session, order_by.removeprefix("group_id:"))
        order_by = None
    return await crud.list_users(session, query=query, order_by=order_by or "created_at",
                                 descending=direction == "desc", page=page, per_page=PAGE_SIZE,
                                 first_ids=first)


@router.get("/", response_model=UserGroupIdsListResponse)
async def list_users(
    request: Request, session: Session, _admin: AdminUser,
    query: str | None = Query(None, max_length=200),
    order_by: str | None = Query(None, pattern=PAGE_ORDER),
    direction: Literal["asc", "desc"] | None = None,
    page: int = Query(1, ge=1, le=1_000_000),  # the offset must fit a database integer
) -> UserGroupIdsListResponse:
    """The Users page: 30 a page, searched by name or email, with each user's groups."""
    users, total = await _page(session, query, order_by, direction, page)
    access = runtime_of(request).admin.access
    return UserGroupIdsListResponse(users=[list_item(u, sorted(access.direct_groups(u.id)))
                                           for u in users], total=total)


@router.get("/all", response_model=UserInfoListResponse)
async def all_users(session: Session, _admin: AdminUser) -> UserInfoListResponse:
    users, total = await crud.list_users(session, query=None, order_by="created_at",
                                         descending=False, page=1, per_page=1_000_000)
    return UserInfoListResponse(users=[user_info(u) for u in users], total=total)


@router.get("/search", response_model=UserInfoListResponse,
            responses=not_found_response("Looking users up needs a sharing permission."))
async def search_users(
    session: Session, _user: UserFinder, query: str | None = Query(None, max_length=200),
    order_by: Order | None = None, direction: Literal["asc", "desc"] | None = None,
    page: int = Query(1, ge=1, le=1_000_000),
) -> UserInfoListResponse:
    """Others by name or email, for whom to share a resource with (see `_finder`)."""
    users, total = await _page(session, query, order_by, direction, page)
    return UserInfoListResponse(users=[user_info(u) for u in users], total=total)


async def _finder(request: Request, user: CurrentUser) -> Claims:
    """Who may look other users up: admins, and users who may share something (their
    permissions let them share with users): the sharing dialogs search for whom to add. Anyone
    else is answered as if the user did not exist."""
    permissions = runtime_of(request).admin.access.permissions_for(user.sub)
    sharing = permissions.get("sharing", {})
    if user.is_admin or (lookup(permissions, "access_grants.allow_users")
                         and any(v is True for v in sharing.values())):
        return user
    raise HTTPException(status.HTTP_404_NOT_FOUND,
                        "No such user (looking users up needs a sharing permission; ask an "
                        "admin).")


UserFinder = Annotated[Claims, Depends(_finder)]


async def _groups_named(request: Request, session: Session, user_id: str) -> list[dict[str, str]]:
    ids = runtime_of(request).admin.access.direct_groups(user_id)
    return [{"id": g.id, "name": g.name} for g in await groups.list_all(session) if g.id in ids]


@router.get("/{user_id}", response_model=UserActiveResponse)
async def get_user(user_id: str, request: Request, session: Session,
                   _admin: AdminUser) -> UserActiveResponse:
    user = await _get(session, user_id)
    named = await _groups_named(request, session, user.id)
    return UserActiveResponse(**list_item(user, [g["id"] for g in named]).model_dump(),
                              groups=named, is_active=is_active(user))


@router.get("/{user_id}/info", response_model=UserInfoResponse)
async def get_user_card(user_id: str, request: Request, session: Session,
                        _user: UserFinder) -> UserInfoResponse:
    """Another user's card (name, status, groups), for whoever may look users up."""
    user = await _get(session, user_id)
    return user_info(user, await _groups_named(request, session, user.id))


@router.get("/{user_id}/active")
async def get_user_active(user_id: str, session: Session,
                          _user: UserFinder) -> dict[str, bool]:
    return {"active": is_active(await _get(session, user_id))}


@router.get("/{user_id}/groups", response_model=list[GroupResponse])
async def get_user_groups(user_id: str, request: Request, session: Session, _admin: AdminUser,
                          include_inherited: bool = False) -> list[GroupResponse]:
    await _get(session, user_id)
    return await groups_answer(request, session, user_id, include_inherited)


@router.get("/{user_id}/oauth/sessions")
async def get_user_oauth_sessions(user_id: str, session: Session,
                                  _admin: AdminUser) -> list[dict[str, str]]:
    """owui signs in by password only: no user has OAuth sessions (Open WebUI answers 400 when
    a user has none; an empty list says the same without calling it an error)."""
    await _get(session, user_id)
    return []


@router.post("/{user_id}/sessions/revoke")
async def revoke_user_sessions(user_id: str, request: Request, session: Session,
                               _admin: AdminUser) -> bool:
    """Every token of the user issued until now stops working, on every replica."""
    await _get(session, user_id)
    await _cut_off_tokens(request, session, user_id)
    return True


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
    if form.profile_image_url not in (None, image_url(user)):  # the list's own address: kept
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
    await session.delete(user)  # its API keys and group memberships go with it
    await session.commit()
    await _cut_off_tokens(request, session, user_id)
    await runtime_of(request).admin.access.changed()
    return True
