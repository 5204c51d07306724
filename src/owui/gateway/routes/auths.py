"""`/api/v1/auths`: sign up, sign in, sign out, the current user, passwords and API keys."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, Response, status

from owui.core.auth import CurrentUser
from owui.core.errors import not_found_response
from owui.core.passwords import hash_in_thread, verify_in_thread
from owui.core.service import Session
from owui.core.tokens import issue_token
from owui.gateway import crud
from owui.gateway.credentials import COOKIE, is_secure
from owui.gateway.models import User
from owui.gateway.runtime import runtime_of
from owui.gateway.schemas import (
    ApiKeyCreate,
    ApiKeyInfo,
    ApiKeyResponse,
    CreatedApiKey,
    SessionUserInfoResponse,
    SessionUserResponse,
    SigninForm,
    SignupForm,
    UpdatePasswordForm,
    UpdateProfileForm,
    UpdateTimezoneForm,
    UserProfileImageResponse,
)
from owui.gateway.signup_rules import (
    ApiKeyUser,
    check_signup_open,
    default_role,
    join_default_group,
    token_lifetime,
)
from owui.gateway.users_view import image_url, session_user, session_user_info

router = APIRouter(prefix="/api/v1/auths", tags=["auths"])
_BAD_CREDENTIALS = "The email or password is incorrect."


_dummy: list[str] = []


async def _dummy_hash() -> str:
    """Checked against when the email is unknown, so a miss takes as long as a wrong password.
    Made on first use (hashing costs 64 MiB and a tenth of a second, not for every start), in
    the hashing pool: on the event loop it stalled every request for that tenth."""
    if not _dummy:
        _dummy.append(await hash_in_thread("owui-timing-equaliser"))
    return _dummy[0]


def _sign_in(request: Request, response: Response, user: User) -> SessionUserResponse:
    """A new token, also as the web app's httpOnly cookie (its <img> and socket requests
    carry no header); Secure when the request came over HTTPS (see credentials.py)."""
    runtime = runtime_of(request)
    settings = runtime.settings
    # The name rides in the token for the services that write it (chat: a message's author);
    # a later change of name shows from the next sign-in on.
    token, expires_at = issue_token(settings.jwt_secret, user.id, user.role,  # type: ignore[arg-type]
                                    token_lifetime(runtime), name=user.name)
    response.set_cookie(COOKIE, token, max_age=max(0, expires_at - int(time.time())), path="/",
                        httponly=True, samesite="lax", secure=is_secure(request.scope))
    return session_user(user, token, expires_at,
                        runtime.admin.access.permissions_for(user.id))


async def _current(session: Session, user: CurrentUser) -> User:
    found = await crud.get_user(session, user.sub)
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "This account no longer exists.")
    return found


@router.post("/signup", response_model=SessionUserResponse)
async def signup(form: SignupForm, request: Request, response: Response,
                 session: Session) -> SessionUserResponse:
    # Hashed before the database is touched: a session holds a pooled connection from its
    # first query on, and a burst of sign-ups waiting for the hasher held them all (the
    # pool ran dry and every other request of the gateway failed).
    runtime = runtime_of(request)
    await check_signup_open(runtime)
    password_hash = await hash_in_thread(form.password)
    if await crud.get_user_by_email(session, form.email) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "An account with this email already exists.")
    user = await crud.create_user(session, name=form.name, email=form.email,
                                  password_hash=password_hash, role=default_role(runtime),
                                  profile_image_url=form.profile_image_url)
    runtime.accounts.created()
    await join_default_group(runtime, session, user.id)
    return _sign_in(request, response, user)


@router.post("/signin", response_model=SessionUserResponse)
async def signin(form: SigninForm, request: Request, response: Response,
                 session: Session) -> SessionUserResponse:
    async with runtime_of(request).sign_ins:
        user = await crud.get_user_by_email(session, form.email)
        await session.commit()  # the read is over: its connection goes back during the hash
        matches, new_hash = await verify_in_thread(
            form.password, user.password_hash if user else await _dummy_hash())
        if user is None or not matches:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, _BAD_CREDENTIALS)
        if new_hash:
            user.password_hash = new_hash
        user.last_active_at = int(time.time())
        await session.commit()
    return _sign_in(request, response, user)


@router.get("/", response_model=SessionUserInfoResponse)
async def me(request: Request, session: Session, user: CurrentUser) -> SessionUserInfoResponse:
    found = await _current(session, user)
    if found.last_active_at < time.time() - 60:  # the web app asks on every load: "active"
        found.last_active_at = int(time.time())
        await session.commit()
    return session_user_info(found, request.scope["state"]["token"], user.exp,
                             runtime_of(request).admin.access.permissions_for(found.id))


@router.post("/signout")
async def signout(request: Request, response: Response, session: Session,
                  user: CurrentUser) -> dict[str, bool]:
    """Revokes the token (its open sockets are closed with it) and clears the cookie."""
    await runtime_of(request).revocations.revoke(session, "jti", user.jti, expires_at=user.exp)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax",
                           secure=is_secure(request.scope))
    return {"status": True}


@router.post("/update/profile", response_model=UserProfileImageResponse)
async def update_profile(form: UpdateProfileForm, session: Session,
                         user: CurrentUser) -> UserProfileImageResponse:
    """Name, image, bio, gender and date of birth, from the web app's account settings."""
    found = await _current(session, user)
    found.name = form.name.strip()
    found.profile_image_url = form.profile_image_url
    found.bio, found.gender = form.bio, form.gender
    found.date_of_birth = form.date_of_birth.isoformat() if form.date_of_birth else None
    await session.commit()
    return UserProfileImageResponse(id=found.id, name=found.name,
                                    role=found.role,  # type: ignore[arg-type]
                                    email=found.email, profile_image_url=image_url(found))


@router.post("/update/timezone")
async def update_timezone(form: UpdateTimezoneForm, session: Session,
                          user: CurrentUser) -> dict[str, bool]:
    """The browser's timezone, sent by the web app on every load."""
    found = await _current(session, user)
    if found.timezone != form.timezone:
        found.timezone = form.timezone
        await session.commit()
    return {"status": True}


@router.post("/update/password")
async def update_password(form: UpdatePasswordForm, session: Session,
                          user: CurrentUser) -> bool:
    found = await _current(session, user)
    matches, _ = await verify_in_thread(form.password, found.password_hash)
    if not matches:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The current password is incorrect.")
    found.password_hash = await hash_in_thread(form.new_password)
    await session.commit()
    return True


# Open WebUI's single key per user: POST makes a new one (replacing the old), shown once.
@router.post("/api_key", response_model=ApiKeyResponse)
async def create_default_api_key(request: Request, session: Session,
                                 user: ApiKeyUser) -> ApiKeyResponse:
    replaced = await crud.delete_api_keys(session, user.sub, name="default")
    await _revoke_keys(request, session, replaced)
    _row, key = await crud.create_api_key(session, user.sub, "default")
    return ApiKeyResponse(api_key=key)


@router.get("/api_key", response_model=ApiKeyResponse,
            responses=not_found_response("No API key yet; POST to make one."))
async def get_default_api_key(session: Session, user: CurrentUser) -> ApiKeyResponse:
    keys = [k for k in await crud.list_api_keys(session, user.sub) if k.name == "default"]
    if not keys:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "You have no API key; POST to create one.")
    # Only a hash is stored: the key itself was shown once, when it was made.
    return ApiKeyResponse(api_key=f"{keys[-1].prefix}...")


@router.delete("/api_key")
async def delete_default_api_key(request: Request, session: Session, user: CurrentUser) -> bool:
    deleted = await crud.delete_api_keys(session, user.sub, name="default")
    await _revoke_keys(request, session, deleted)
    return bool(deleted)


@router.get("/api_keys", response_model=list[ApiKeyInfo])
async def list_api_keys(session: Session, user: CurrentUser) -> list[ApiKeyInfo]:
    return [ApiKeyInfo.model_validate(k, from_attributes=True)
            for k in await crud.list_api_keys(session, user.sub)]


@router.post("/api_keys", response_model=CreatedApiKey, status_code=status.HTTP_201_CREATED)
async def create_api_key(form: ApiKeyCreate, session: Session,
                         user: ApiKeyUser) -> CreatedApiKey:
    row, key = await crud.create_api_key(session, user.sub, form.name)
    return CreatedApiKey(api_key=key, **ApiKeyInfo.model_validate(row, from_attributes=True)
                         .model_dump())


@router.delete("/api_keys/{key_id}")
async def delete_api_key(key_id: str, request: Request, session: Session,
                         user: CurrentUser) -> bool:
    deleted = await crud.delete_api_keys(session, user.sub, key_id=key_id)
    if not deleted:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No API key {key_id!r} of yours.")
    await _revoke_keys(request, session, deleted)
    return True


async def _revoke_keys(request: Request, session: Session, key_ids: list[str]) -> None:
    """Deleted keys stop working on every replica, even where a minted token is cached."""
    if not key_ids:
        await session.commit()
        return
    expires_at = time.time() + 3600
    for key_id in key_ids:
        await runtime_of(request).revocations.revoke(session, "api_key", key_id,
                                                   expires_at=expires_at)
