"""How every service learns what a user may do: their groups and permissions.

The gateway owns groups and permissions. On every request it forwards it adds `X-Owui-Access`,
a short-lived HS256 JWT (`JWT_SECRET_KEY`, audience `owui-access`) holding the user's id, group
ids and effective permissions (Open WebUI's shape, merged most-permissive over the default
permissions and the user's groups). It strips any such header a client sends, and re-signs a
user's header as soon as groups or permissions change on any replica (within about a second).

A service reads it with `current_access(request)`: the header is verified, and its `sub` must be
the bearer token's. Admins may do everything, header or not (the role is the token's). A
non-admin whose request carries no valid header (a service reached directly, not through the
gateway) gets `NO_HEADER_PERMISSIONS`: no workspace, sharing or feature permission and no group,
so a header the caller cannot sign can never tell a service more.

    @router.post("/create", dependencies=[Depends(require_permission("workspace.tools"))])
    access = current_access(request); can_read(tool.access_grants, access, owner_id=tool.user_id)

A call to another service on behalf of the user passes the header on (`core.client` sends
`forwarded_header()`, the value this request came with).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import HTTPException, Request, status

from owui.core.errors import BadRequestError

ACCESS_HEADER = "X-Owui-Access"
ACCESS_HEADER_BYTES = b"x-owui-access"
AUDIENCE = "owui-access"
ALGORITHM = "HS256"
# How long a signed header is good for. Changes do not wait for it (the gateway re-signs on the
# next request after a change); it bounds how long a header a request came with stays usable by
# the calls that request makes between services: a long agent run calls retrieval minutes later.
LIFETIME_SECONDS = 300
# The gateway signs a fresh one once a cached header is this old.
RESIGN_AFTER_SECONDS = LIFETIME_SECONDS / 2

# Open WebUI 0.12.4's built-in default permissions (its DEFAULT_USER_PERMISSIONS); an admin
# changes the deployment's defaults at /api/v1/users/default/permissions.
DEFAULT_PERMISSIONS: dict[str, dict[str, bool]] = {
    "workspace": dict.fromkeys((
        "models", "knowledge", "prompts", "tools", "skills", "models_import", "models_export",
        "models_hidden", "prompts_import", "prompts_export", "tools_import", "tools_export",
        "skills_import", "skills_export"), False),
    "sharing": dict.fromkeys((
        "models", "public_models", "knowledge", "public_knowledge", "prompts", "public_prompts",
        "tools", "public_tools", "skills", "public_skills", "notes", "public_notes", "folders",
        "public_chats", "open_chats", "public_calendars"), False),
    "access_grants": {"allow_users": True, "allow_groups": True},
    "chat": {
        **dict.fromkeys((
            "controls", "valves", "system_prompt", "params", "file_upload", "web_upload",
            "delete", "delete_message", "continue_response", "regenerate_response",
            "rate_response", "edit", "share", "export", "import", "stt", "tts", "call",
            "multiple_models", "temporary"), True),
        "temporary_enforced": False,
    },
    "features": {
        **dict.fromkeys(("notes", "channels", "folders", "web_search", "image_generation",
                         "code_interpreter", "memories", "calendar"), True),
        # owui lets every account make API keys unless an admin turns them off.
        "api_keys": True,
        **dict.fromkeys(("encrypted_channels", "direct_tool_servers", "automations",
                         "webhooks"), False),
    },
    "settings": {"interface": True},
}

# Without a valid header a non-admin keeps only the chat and settings defaults.
_DENIED_SECTIONS = ("workspace", "sharing", "access_grants", "features")
NO_HEADER_PERMISSIONS: dict[str, dict[str, bool]] = {
    section: (dict.fromkeys(values, False) if section in _DENIED_SECTIONS else dict(values))
    for section, values in DEFAULT_PERMISSIONS.items()
}

# The value this request came with, passed on by core.client on calls made while serving it.
_forwarded: ContextVar[str | None] = ContextVar("owui_access_header", default=None)


def forwarded_header() -> str | None:
    return _forwarded.get()


def remember_header(value: str | None) -> object:
    """Called by the token check for each request; returns the reset token."""
    return _forwarded.set(value)


def forget_header(token: object) -> None:
    _forwarded.reset(token)  # type: ignore[arg-type]


# ---------------------------------------------------------------- permissions


def fill_missing(permissions: Mapping[str, Any],
                 template: Mapping[str, Any] = DEFAULT_PERMISSIONS) -> dict[str, Any]:
    """A copy of `permissions` with every key of `template` it lacks (Open WebUI's rule: a
    permission added in a later version starts at its built-in default)."""
    filled: dict[str, Any] = copy.deepcopy(dict(permissions))
    for key, value in template.items():
        if key not in filled:
            filled[key] = copy.deepcopy(value)
        elif isinstance(value, Mapping) and isinstance(filled[key], Mapping):
            filled[key] = fill_missing(filled[key], value)
    return filled


def combine(permissions: dict[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `more` into `permissions`, the most permissive value winning (True over False)."""
    for key, value in more.items():
        if isinstance(value, Mapping):
            inner = permissions.get(key)
            permissions[key] = combine(inner if isinstance(inner, dict) else {}, value)
        else:
            permissions[key] = bool(permissions.get(key)) or bool(value)
    return permissions


def effective_permissions(defaults: Mapping[str, Any],
                          groups: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """A user's permissions: the deployment's defaults, then each of their groups' on top."""
    merged = fill_missing(defaults)
    for group_permissions in groups:
        combine(merged, group_permissions or {})
    return merged


def lookup(permissions: Mapping[str, Any], key: str) -> bool:
    """`lookup(p, "workspace.tools")`: False when any part of the path is missing."""
    node: Any = permissions
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return node is True


# ---------------------------------------------------------------- the header


def sign_access(secret: str, user_id: str, groups: Iterable[str],
                permissions: Mapping[str, Any], *, lifetime: float = LIFETIME_SECONDS,
                now: float | None = None) -> str:
    issued = time.time() if now is None else now
    payload = {"sub": user_id, "aud": AUDIENCE, "iat": int(issued),
               "exp": int(issued + lifetime), "groups": sorted(groups),
               "permissions": permissions}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


@dataclass(frozen=True, slots=True)
class Access:
    user_id: str
    role: str
    groups: frozenset[str]
    permissions: Mapping[str, Any]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def allows(self, key: str) -> bool:
        """`access.allows("chat.delete")`; admins may do everything."""
        return self.is_admin or lookup(self.permissions, key)


class AccessVerifier:
    """Verified headers, cached (bounded) so the HMAC and JSON work is done once per value."""

    def __init__(self, secret: str, max_size: int = 4096) -> None:
        self.secret = secret
        self.max_size = max_size
        self._verified: dict[str, dict[str, Any]] = {}

    def payload(self, value: str) -> dict[str, Any] | None:
        payload = self._verified.get(value)
        if payload is not None:
            if payload["exp"] > time.time():
                return payload
            del self._verified[value]
            return None
        try:
            payload = jwt.decode(value, self.secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                                 options={"require": ["sub", "aud", "exp"]})
        except jwt.PyJWTError:
            return None
        if not isinstance(payload.get("groups"), list) or \
                not isinstance(payload.get("permissions"), dict):
            return None
        if len(self._verified) >= self.max_size:
            del self._verified[next(iter(self._verified))]
        self._verified[value] = payload
        return payload


def _verifier(request: Request) -> AccessVerifier:
    state = request.app.state
    verifier = getattr(state, "access_verifier", None)
    if verifier is None:
        verifier = state.access_verifier = AccessVerifier(state.settings.jwt_secret)
    return verifier


def access_of(user_id: str, role: str, header_value: str | None,
              verifier: AccessVerifier) -> Access:
    """The access a request carries: the verified header's, or the no-header fallback."""
    payload = verifier.payload(header_value) if header_value else None
    if payload is None or payload.get("sub") != user_id:
        return Access(user_id, role, frozenset(), NO_HEADER_PERMISSIONS)
    return Access(user_id, role, frozenset(str(g) for g in payload["groups"]),
                  payload["permissions"])


def current_access(request: Request) -> Access:
    """The signed-in user's access (the token check has run: its claims are in the state)."""
    claims = request.scope.get("state", {}).get("user")
    if claims is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated",
                            headers={"WWW-Authenticate": "Bearer"})
    return access_of(claims.sub, claims.role, request.headers.get(ACCESS_HEADER),
                     _verifier(request))


def permission_denied(key: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN,
                         f"You do not have the '{key}' permission; ask an admin to grant it "
                         f"(Admin Panel > Users > Groups, or the default permissions).")


_dependencies: dict[str, Callable[[Request], Awaitable[Access]]] = {}


def require_permission(key: str) -> Callable[[Request], Awaitable[Access]]:
    """A FastAPI dependency: the caller's Access, or 403 naming `key` ("workspace.tools")."""
    section, _, name = key.partition(".")
    if name not in DEFAULT_PERMISSIONS.get(section, {}):
        raise ValueError(f"unknown permission {key!r}")  # a typo would deny everyone
    found = _dependencies.get(key)
    if found is None:
        async def dependency(request: Request) -> Access:
            access = current_access(request)
            if not access.allows(key):
                raise permission_denied(key)
            return access

        dependency.__name__ = f"require_{key.replace('.', '_')}"
        dependency.permission = key  # type: ignore[attr-defined]  # found by tests/authz
        found = _dependencies[key] = dependency
    return found


# ---------------------------------------------------------------- shared resources

PRINCIPAL_TYPES = ("user", "group")
GRANT_PERMISSIONS = ("read", "write")
ANYONE = "*"  # principal_id of a user grant that means every signed-in user


class InvalidGrants(BadRequestError):
    """An `access_grants` list that is not Open WebUI's shape."""


def parse_grants(raw: object) -> list[dict[str, str]]:
    """Open WebUI's `access_grants`: a list of {principal_type: user|group, principal_id,
    permission: read|write} (an `id` kept when given); duplicates dropped. Anything else is a
    400 that names the entry (nothing is stored)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidGrants("access_grants must be a list of {principal_type, principal_id, "
                            "permission}.")
    grants: dict[tuple[str, str, str], dict[str, str]] = {}
    for index, grant in enumerate(raw):
        kind = grant.get("principal_type") if isinstance(grant, dict) else None
        principal = grant.get("principal_id") if isinstance(grant, dict) else None
        permission = grant.get("permission") if isinstance(grant, dict) else None
        if kind not in PRINCIPAL_TYPES or permission not in GRANT_PERMISSIONS or \
                not isinstance(principal, str) or not principal.strip():
            raise InvalidGrants(
                f"access_grants[{index}] is not {{principal_type: user|group, principal_id: "
                f"<id>, permission: read|write}}: {grant!r:.200}")
        if kind == "group" and principal == ANYONE:
            raise InvalidGrants(f"access_grants[{index}]: '*' means anyone only for a user grant.")
        entry = {"principal_type": kind, "principal_id": principal, "permission": permission}
        if isinstance(grant, dict) and isinstance(grant.get("id"), str) and grant["id"]:
            entry["id"] = grant["id"]
        grants[(kind, principal, permission)] = entry
    return list(grants.values())


def grant_group_ids(grants: Iterable[Mapping[str, Any]]) -> set[str]:
    """The groups a grant list names (to check they exist before storing it)."""
    return {str(g.get("principal_id")) for g in grants if g.get("principal_type") == "group"}


def _granted(grants: Iterable[Mapping[str, Any]] | None, access: Access,
             permissions: tuple[str, ...]) -> bool:
    for grant in grants or ():
        if grant.get("permission") not in permissions:
            continue
        kind, principal = grant.get("principal_type"), grant.get("principal_id")
        if kind == "user" and principal in (ANYONE, access.user_id):
            return True
        if kind == "group" and principal in access.groups:
            return True
    return False


def can_read(grants: Iterable[Mapping[str, Any]] | None, access: Access, *,
             owner_id: str | None = None) -> bool:
    """May `access` read a resource with these grants? The owner and admins always may; a
    write grant lets its holder read too."""
    if access.is_admin or (owner_id is not None and owner_id == access.user_id):
        return True
    return _granted(grants, access, GRANT_PERMISSIONS)


def can_write(grants: Iterable[Mapping[str, Any]] | None, access: Access, *,
              owner_id: str | None = None) -> bool:
    if access.is_admin or (owner_id is not None and owner_id == access.user_id):
        return True
    return _granted(grants, access, ("write",))
