"""Request and response bodies of the gateway's own routes, in Open WebUI's shapes."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from owui.core.config import Role

# As Open WebUI: self-hosted accounts often live at @localhost or an internal domain.
_EMAIL = re.compile(r"^[^@\s]+@(localhost|[^@\s]+\.[^@\s]+)$")


def _check_email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("not an email address such as name@example.com")
    return value


EmailStr = Annotated[str, Field(max_length=320), AfterValidator(_check_email)]


class SignupForm(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=8, max_length=1024)
    profile_image_url: str | None = None


class SigninForm(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class UpdatePasswordForm(BaseModel):
    password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=1024)


class UserModel(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    profile_image_url: str
    last_active_at: int
    updated_at: int
    created_at: int


class SessionUserResponse(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    profile_image_url: str
    token: str
    token_type: str = "Bearer"
    expires_at: int | None
    permissions: dict[str, object] | None = None


class ProfileFields(BaseModel):
    """The profile a user edits for themselves (Open WebUI's fields)."""

    bio: str | None = None
    gender: str | None = None
    date_of_birth: str | None = None
    timezone: str | None = None
    status_emoji: str | None = None
    status_message: str | None = None
    status_expires_at: int | None = None


class SessionUserInfoResponse(SessionUserResponse, ProfileFields):
    """`GET /api/v1/auths/`: the session and the user's profile."""


class UpdateProfileForm(BaseModel):
    """The web app's account settings. An uploaded image comes as a data: URL (the app shrinks
    it to a small square first)."""

    profile_image_url: str = Field(max_length=2_000_000)
    name: str = Field(min_length=1, max_length=200)
    bio: str | None = Field(default=None, max_length=10_000)
    gender: str | None = Field(default=None, max_length=64)
    date_of_birth: date | None = None


class UserProfileImageResponse(BaseModel):
    id: str
    name: str
    role: Role
    email: str
    profile_image_url: str


class UpdateTimezoneForm(BaseModel):
    timezone: str = Field(min_length=1, max_length=64)


class UserListResponse(BaseModel):
    users: list[UserModel]
    total: int


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


class UserUpdateForm(BaseModel):
    """The Users page's edit form: it sends the whole user back, with `password: ""` when the
    password is not changed, and the image as the address the list gave."""

    role: Role | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    profile_image_url: str | None = Field(default=None, max_length=2_000_000)
    password: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, min_length=8, max_length=1024)


class ApiKeyResponse(BaseModel):
    api_key: str | None


class ApiKeyCreate(BaseModel):
    name: str = Field(default="default", min_length=1, max_length=200)


class ApiKeyInfo(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: int
    last_used_at: int | None


class CreatedApiKey(ApiKeyInfo):
    api_key: str = Field(description="Shown once; only its hash is stored.")


class GroupForm(BaseModel):
    """Open WebUI's GroupForm and GroupUpdateForm (the same fields)."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    parent_group_id: str | None = None
    permissions: dict[str, dict[str, bool]] | None = None
    data: dict[str, Any] | None = None


class GroupResponse(BaseModel):
    id: str
    user_id: str
    name: str
    description: str
    parent_group_id: str | None = None
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    permissions: dict[str, Any] | None = None
    created_at: int
    updated_at: int
    member_count: int | None = None


class GroupInfoResponse(BaseModel):
    id: str
    user_id: str
    name: str
    description: str
    parent_group_id: str | None = None
    member_count: int | None = None
    created_at: int
    updated_at: int


class GroupExportResponse(GroupResponse):
    user_ids: list[str] = []


class UserIdsForm(BaseModel):
    user_ids: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None,
                                                                        max_length=10_000)


class UserInfoResponse(BaseModel):
    """A user as the Users page and group member lists show one."""

    id: str
    name: str
    email: str
    role: str
    bio: str | None = None
    last_active_at: int | None = None
    timezone: str | None = None
    status_emoji: str | None = None
    status_message: str | None = None
    status_expires_at: int | None = None
    groups: list[Any] = []
    is_active: bool = False


class GroupMemberInfo(UserInfoResponse):
    membership_type: Literal["direct", "inherited"]
    via_group_ids: list[str] = []


class GroupMembersResponse(BaseModel):
    items: list[GroupMemberInfo]
    total: int
    counts: dict[str, int]


class UserListItem(UserModel, ProfileFields):
    """A row of the Users page (Open WebUI's UserGroupIdsModel)."""

    info: dict[str, Any] | None = None
    group_ids: list[str] = []


class UserGroupIdsListResponse(BaseModel):
    users: list[UserListItem]
    total: int


class UserInfoListResponse(BaseModel):
    users: list[UserInfoResponse]
    total: int


class UserActiveResponse(UserListItem):
    """`GET /api/v1/users/{id}`: the user, their groups ({id, name}) and whether active."""

    groups: list[dict[str, str]] = []
    is_active: bool = False


class UserStatusForm(BaseModel):
    status_emoji: str | None = Field(default=None, max_length=64)
    status_message: str | None = Field(default=None, max_length=1_000)
    status_expires_at: int | None = None


class UserVariablesForm(BaseModel):
    variables: dict[str, Any] = {}


class UserVariablesResponse(BaseModel):
    variables: dict[str, str] = {}


class AddUserForm(BaseModel):
    """`POST /api/v1/auths/add`: an admin adds an account (Open WebUI's AddUserForm)."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=8, max_length=1024)
    profile_image_url: str | None = "/user.png"
    role: Role | None = "pending"
