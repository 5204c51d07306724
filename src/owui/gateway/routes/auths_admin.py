"""`/api/v1/auths` for admins: add a user, the auth settings (sign-up, default role, token
lifetime, API keys...), and who the admin is. The settings are the gateway's live config: a
change applies on every replica within about a second, and is checked whole before any of it
is stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from owui.core.auth import ADMIN_ONLY_DETAIL, AdminUser, CurrentUser
from owui.core.config import Role, parse_duration
from owui.core.errors import error_response
from owui.core.live_config import LiveConfig
from owui.core.passwords import hash_in_thread
from owui.core.service import Session
from owui.core.tokens import issue_token
from owui.gateway import crud
from owui.gateway.live import AUTH_KEYS
from owui.gateway.runtime import runtime_of
from owui.gateway.schemas import AddUserForm
from owui.gateway.signup_rules import join_default_group, token_lifetime
from owui.gateway.users_view import image_url

# Every route here is the admin's but the user's own MFA status: 403 for the rest is documented.
router = APIRouter(prefix="/api/v1/auths", tags=["auths"],
                   responses={403: error_response(ADMIN_ONLY_DETAIL)})


class AdminConfigForm(BaseModel):
    """Open WebUI's AdminConfig; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    SHOW_ADMIN_DETAILS: bool | None = None
    ADMIN_EMAIL: str | None = None
    WEBUI_URL: str | None = Field(default=None, max_length=2000)
    ENABLE_LOGIN_FORM: bool | None = None
    ENABLE_SIGNUP: bool | None = None
    ENABLE_API_KEYS: bool | None = None
    ENABLE_API_KEYS_ENDPOINT_RESTRICTIONS: bool | None = None
    API_KEYS_ALLOWED_ENDPOINTS: str | None = None
    DEFAULT_USER_ROLE: Role | None = None
    DEFAULT_GROUP_ID: str | None = None
    DEFAULT_INTERFACE_SETTINGS: dict[str, Any] | None = None
    I18N: dict[str, dict[str, StrictStr]] | None = None
    JWT_EXPIRES_IN: str | None = None
    ENABLE_COMMUNITY_SHARING: bool | None = None
    ENABLE_MESSAGE_RATING: bool | None = None
    ENABLE_FOLDERS: bool | None = None
    FOLDER_MAX_FILE_COUNT: int | str | None = None
    AUTOMATION_MAX_COUNT: int | str | None = None
    AUTOMATION_MIN_INTERVAL: int | str | None = None
    ENABLE_AUTOMATIONS: bool | None = None
    ENABLE_CHANNELS: bool | None = None
    ENABLE_ENCRYPTED_CHANNELS: bool | None = None
    ENABLE_APPS: bool | None = None
    CHANNEL_MODEL_RESPONSE_MODE: str | None = None
    ENABLE_CALENDAR: bool | None = None
    ENABLE_MEMORIES: bool | None = None
    ENABLE_MEMORY_SYSTEM_CONTEXT: bool | None = None
    ENABLE_SKILL_LAZY_LOADING: bool | None = None
    SKILL_CONTENT_MAX_CHARS: int | None = Field(default=None, gt=0)
    SKILL_PREVIEW_MAX_CHARS: int | None = Field(default=None, gt=0)
    ENABLE_NOTES: bool | None = None
    ENABLE_USER_WEBHOOKS: bool | None = None
    ENABLE_USER_STATUS: bool | None = None
    PENDING_USER_OVERLAY_TITLE: str | None = None
    PENDING_USER_OVERLAY_CONTENT: str | None = None
    RESPONSE_WATERMARK: str | None = None
    ENABLE_MFA: bool | None = None
    MFA_ALLOW_OAUTH_BYPASS: bool | None = None
    MFA_ALLOW_TRUSTED_HEADER_BYPASS: bool | None = None


def settable(form: BaseModel, live: LiveConfig) -> dict[str, Any]:
    """The fields the form set; a null only where a setting may be null (else it is left as
    it is: the web app sends null for what it never showed)."""
    return {key: value for key, value in form.model_dump(exclude_unset=True).items()
            if value is not None or live.defaults.get(key, 0) is None}


def _admin_config(request: Request) -> dict[str, Any]:
    live = runtime_of(request).admin.live
    return {key: live[key] for key in AUTH_KEYS}


@router.get("/admin/config")
async def get_admin_config(request: Request, _admin: AdminUser) -> dict[str, Any]:
    return _admin_config(request)


async def check_admin_config(form: AdminConfigForm, session: Session,
                             changes: dict[str, Any]) -> None:
    """Refuse what owui cannot do or what names nothing, before anything is stored."""
    if form.JWT_EXPIRES_IN is not None:
        try:
            parse_duration(form.JWT_EXPIRES_IN)
        except ValueError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                f"JWT_EXPIRES_IN: {exc} (owui's tokens always expire).") from None
    if form.ENABLE_MFA:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "owui has no multi-factor sign-in; ENABLE_MFA must stay off.")
    group_id = changes.get("DEFAULT_GROUP_ID")
    if group_id and await crud.get_group(session, group_id) is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"DEFAULT_GROUP_ID: no group {group_id!r}.")


@router.post("/admin/config")
async def update_admin_config(form: AdminConfigForm, request: Request, session: Session,
                              _admin: AdminUser) -> dict[str, Any]:
    changes = settable(form, runtime_of(request).admin.live)
    await check_admin_config(form, session, changes)
    await session.commit()  # the check's read is over before the settings are written
    await runtime_of(request).admin.live.update(changes)
    return {**_admin_config(request), "sessions_revoked": False}


@router.get("/admin/details")
async def get_admin_details(request: Request, session: Session,
                            _user: CurrentUser) -> dict[str, str | None]:
    """Whom to ask (the pending-account screen), when the admin chose to show it."""
    live = runtime_of(request).admin.live
    if not live["SHOW_ADMIN_DETAILS"]:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The admin's details are not shown.")
    email = live["ADMIN_EMAIL"]
    admin = await (crud.get_user_by_email(session, email) if email
                   else crud.first_admin(session))
    return {"name": admin.name if admin else None,
            "email": email or (admin.email if admin else None)}


@router.post("/add")
async def add_user(form: AddUserForm, request: Request, session: Session,
                   _admin: AdminUser) -> dict[str, Any]:
    """An account made by the admin (Users page > Add user), whatever sign-up allows."""
    password_hash = await hash_in_thread(form.password)
    if await crud.get_user_by_email(session, form.email) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "An account with this email already exists.")
    user = await crud.create_user(session, name=form.name, email=form.email,
                                  password_hash=password_hash, role=form.role or "pending",
                                  profile_image_url=form.profile_image_url)
    runtime = runtime_of(request)
    runtime.accounts.created()
    await join_default_group(runtime, session, user.id)
    token, _exp = issue_token(runtime.settings.jwt_secret, user.id, user.role,  # type: ignore[arg-type]
                              token_lifetime(runtime), name=user.name)
    return {"token": token, "token_type": "Bearer", "id": user.id, "email": user.email,
            "name": user.name, "role": user.role, "profile_image_url": image_url(user)}


@router.get("/admin/config/ldap")
async def get_ldap_config(_admin: AdminUser) -> dict[str, bool]:
    return {"ENABLE_LDAP": False}


class LdapConfigForm(BaseModel):
    enable_ldap: bool | None = None


@router.post("/admin/config/ldap")
async def update_ldap_config(form: LdapConfigForm, _admin: AdminUser) -> dict[str, bool]:
    if form.enable_ldap:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "owui does not sign in through LDAP; ENABLE_LDAP stays off.")
    return {"ENABLE_LDAP": False}


@router.get("/admin/config/ldap/server")
async def get_ldap_server(_admin: AdminUser) -> dict[str, Any]:
    """No LDAP server is configured (owui signs in by password only): Open WebUI's empty form,
    which the Authentication settings page loads."""
    return {"label": "", "host": "", "port": None, "attribute_for_mail": "mail",
            "default_email_domain": "", "attribute_for_username": "uid", "app_dn": "",
            "app_dn_password": "", "search_base": "", "search_filters": "", "use_tls": True,
            "certificate_path": None, "validate_cert": True, "ciphers": "ALL",
            "enable_group_management": False, "enable_group_creation": False,
            "attribute_for_groups": "memberOf"}


@router.get("/mfa/status")
async def get_mfa_status(_user: CurrentUser) -> dict[str, bool | int]:
    """owui has no multi-factor sign-in: never enrolled, never required (the account page
    reads this)."""
    return {"enabled": False, "required": False, "recovery_codes_remaining": 0}
