"""Turning on permissions Open WebUI's defaults withhold, for tests whose users make things.

Open WebUI lets a plain user make no collection, model or prompt (`workspace.*` off); tests
whose users do so have their admin grant it first, to everyone (the default permissions) or to
the members of a group, as an admin does in Admin Panel > Users."""

from __future__ import annotations

from typing import Any

import httpx

from owui.core.access import ACCESS_HEADER, DEFAULT_PERMISSIONS, effective_permissions, sign_access


def _sections(keys: tuple[str, ...]) -> dict[str, dict[str, bool]]:
    sections: dict[str, dict[str, bool]] = {}
    for key in keys:
        section, _, name = key.partition(".")
        sections.setdefault(section, {})[name] = True
    return sections


def grant_by_default(admin: httpx.Client, *keys: str) -> None:
    """Every user gets `keys` ("workspace.knowledge"): the admin's default permissions, with
    the rest kept. `admin` is a client of the gateway signed in as its admin."""
    url = "/api/v1/users/default/permissions"
    defaults = admin.get(url)
    defaults.raise_for_status()
    permissions: dict[str, Any] = defaults.json()
    for section, names in _sections(keys).items():
        permissions.setdefault(section, {}).update(names)
    admin.post(url, json=permissions).raise_for_status()


def grant_to_group(admin: httpx.Client, name: str, user_ids: list[str], *keys: str
                   ) -> dict[str, Any]:
    """A new group `name` holding `keys`, with `user_ids` as its members; the group."""
    made = admin.post("/api/v1/groups/create", json={
        "name": name, "description": "made by a test", "permissions": _sections(keys)})
    made.raise_for_status()
    group: dict[str, Any] = made.json()
    admin.post(f"/api/v1/groups/id/{group['id']}/users/add",
               json={"user_ids": user_ids}).raise_for_status()
    return group


def access_header(secret: str, user_id: str, *keys: str) -> dict[str, str]:
    """For a service reached straight, without the gateway: the signed access header the
    gateway would send for a user holding `keys` on top of Open WebUI's defaults (a plain user
    without it has no workspace permission there)."""
    permissions = effective_permissions(DEFAULT_PERMISSIONS, [_sections(keys)])
    return {ACCESS_HEADER: sign_access(secret, user_id, [], permissions)}
