"""owui.core.access: the signed access header a service reads, the permission dependency, and
the read/write rules for resources shared with users and groups (in-process: a FastAPI app
behind the real token check, no other service)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from owui.core.access import (
    ACCESS_HEADER,
    DEFAULT_PERMISSIONS,
    NO_HEADER_PERMISSIONS,
    Access,
    InvalidGrants,
    can_read,
    can_write,
    current_access,
    effective_permissions,
    forwarded_header,
    parse_grants,
    require_permission,
    sign_access,
)
from owui.core.auth import TokenAuthMiddleware
from owui.core.tokens import issue_token

SECRET = "s" * 32


def _app() -> FastAPI:
    api = FastAPI()
    api.state.settings = type("S", (), {"jwt_secret": SECRET})()

    @api.get("/access")
    async def show(request: Request) -> dict:
        access = current_access(request)
        return {"groups": sorted(access.groups), "tools": access.allows("workspace.tools"),
                "delete": access.allows("chat.delete"), "forwarded": forwarded_header()}

    @api.post("/tools", dependencies=[Depends(require_permission("workspace.tools"))])
    async def make_tool() -> dict:
        return {"made": True}

    api.add_middleware(TokenAuthMiddleware, secret=SECRET)
    return api


def _token(sub: str, role: str = "user") -> str:
    return issue_token(SECRET, sub, role, timedelta(hours=1))[0]  # type: ignore[arg-type]


def _tools_on() -> dict:
    return {"workspace": {"tools": True}}


async def _get(path: str, sub: str, role: str = "user", access: str | None = None,
               method: str = "GET") -> httpx.Response:
    headers = {"Authorization": f"Bearer {_token(sub, role)}"}
    if access is not None:
        headers[ACCESS_HEADER] = access
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, headers=headers)


async def test_a_signed_header_gives_its_groups_and_permissions() -> None:
    header = sign_access(SECRET, "bob", ["g1"], effective_permissions(
        DEFAULT_PERMISSIONS, [_tools_on()]))
    seen = (await _get("/access", "bob", access=header)).json()
    assert seen == {"groups": ["g1"], "tools": True, "delete": True, "forwarded": header}
    assert (await _get("/tools", "bob", access=header, method="POST")).status_code == 200


@pytest.mark.parametrize("case", ["absent", "forged", "other user", "expired", "audience"])
async def test_without_a_valid_header_a_user_gets_no_workspace_permission(case: str) -> None:
    perms = effective_permissions(DEFAULT_PERMISSIONS, [_tools_on()])
    header = {
        "absent": None,
        "forged": sign_access("not-the-secret" * 3, "bob", ["g1"], perms),
        "other user": sign_access(SECRET, "alice", ["g1"], perms),
        "expired": sign_access(SECRET, "bob", ["g1"], perms, now=time.time() - 3600),
        "audience": issue_token(SECRET, "bob", "user", timedelta(hours=1))[0],
    }[case]
    seen = (await _get("/access", "bob", access=header)).json()
    assert seen["groups"] == [] and seen["tools"] is False
    assert seen["delete"] is True  # chat's built-in defaults stay
    refused = await _get("/tools", "bob", access=header, method="POST")
    assert refused.status_code == 403
    assert "'workspace.tools' permission" in refused.json()["detail"]
    assert "ask an admin" in refused.json()["detail"]


async def test_an_admin_may_do_everything_without_a_header() -> None:
    assert (await _get("/tools", "root", role="admin", method="POST")).status_code == 200


def test_no_header_permissions_deny_workspace_sharing_and_features() -> None:
    for section in ("workspace", "sharing", "features", "access_grants"):
        assert not any(NO_HEADER_PERMISSIONS[section].values())
    assert NO_HEADER_PERMISSIONS["chat"] == DEFAULT_PERMISSIONS["chat"]


def test_groups_merge_most_permissive_and_fill_missing_keys() -> None:
    defaults = {"workspace": {"tools": False}, "chat": {"delete": False}}
    merged = effective_permissions(defaults, [{"workspace": {"tools": True}},
                                              {"workspace": {"tools": False}}, None])
    assert merged["workspace"]["tools"] is True
    assert merged["chat"]["delete"] is False  # the deployment's default, kept
    assert merged["chat"]["edit"] is True  # missing from the defaults: built-in value
    assert defaults == {"workspace": {"tools": False}, "chat": {"delete": False}}


def test_an_unknown_permission_name_is_refused_when_the_route_is_declared() -> None:
    with pytest.raises(ValueError, match=r"workspace\.tool"):
        require_permission("workspace.tool")


def test_read_and_write_through_grants() -> None:
    bob = Access("bob", "user", frozenset({"g1"}), DEFAULT_PERMISSIONS)
    group_read = [{"principal_type": "group", "principal_id": "g1", "permission": "read"}]
    user_write = [{"principal_type": "user", "principal_id": "bob", "permission": "write"}]
    anyone = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
    other = [{"principal_type": "group", "principal_id": "g2", "permission": "write"}]
    assert can_read(group_read, bob) and not can_write(group_read, bob)
    assert can_read(user_write, bob) and can_write(user_write, bob)
    assert can_read(anyone, bob) and not can_write(anyone, bob)
    assert not can_read(other, bob) and not can_read(None, bob)
    assert can_write([], bob, owner_id="bob")
    assert can_write(other, Access("root", "admin", frozenset(), {}))


def test_grants_of_the_wrong_shape_are_refused_whole() -> None:
    good = {"principal_type": "group", "principal_id": "g1", "permission": "read"}
    assert parse_grants([good, dict(good)]) == [good]  # a duplicate dropped
    assert parse_grants(None) == []
    for bad in ({"principal_type": "team", "principal_id": "x", "permission": "read"},
                {"principal_type": "user", "principal_id": "", "permission": "read"},
                {"principal_type": "user", "principal_id": "x", "permission": "own"},
                {"principal_type": "group", "principal_id": "*", "permission": "read"}, "x"):
        with pytest.raises(InvalidGrants, match=r"access_grants\[1\]"):
            parse_grants([good, bad])
    with pytest.raises(InvalidGrants, match="must be a list"):
        parse_grants({"read": {}})
