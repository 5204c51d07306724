"""Groups and permissions through the real gateway: the signed access header every forwarded
request carries (seen by the stand-in upstream behind /api/v1/agents), the permissions in the
web app's answers, changes seen at once and by a second replica within seconds."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest

from owui.core.access import AUDIENCE
from tests.conftest import Stack, bearer, signup


def _header(base: str, token: object, **headers: str) -> dict:
    """The access the gateway signed for this caller, as the service behind it received it."""
    seen = httpx.post(f"{base}/api/v1/agents/echo", headers={**bearer(token), **headers},
                      json={}).json()
    value = dict(seen["headers"])["x-owui-access"]
    return value


def _access(stack: Stack, base: str, token: object) -> dict:
    return jwt.decode(_header(base, token), stack.env["JWT_SECRET_KEY"], algorithms=["HS256"],
                      audience=AUDIENCE)


def _post(base: str, path: str, token: object, body: object) -> httpx.Response:
    return httpx.post(base + path, headers=bearer(token), json=body)


@pytest.fixture
def bob(gateway: str) -> dict:
    return signup(gateway, name="Bob")


@pytest.fixture
def group(gateway: str, admin: dict) -> dict:
    made = _post(gateway, "/api/v1/groups/create", admin["token"], {
        "name": "Builders", "description": "may make tools",
        "permissions": {"workspace": {"tools": True}}})
    assert made.status_code == 200, made.text
    yield made.json()
    httpx.delete(f"{gateway}/api/v1/groups/id/{made.json()['id']}/delete",
                 headers=bearer(admin["token"]))


def test_members_get_the_groups_permissions_at_once(stack: Stack, gateway: str, admin: dict,
                                                    bob: dict, group: dict) -> None:
    before = _access(stack, gateway, bob["token"])
    assert before["sub"] == bob["id"] and before["groups"] == []
    assert before["permissions"]["workspace"]["tools"] is False
    added = _post(gateway, f"/api/v1/groups/id/{group['id']}/users/add", admin["token"],
                  {"user_ids": [bob["id"]]})
    assert added.status_code == 200 and added.json()["member_count"] == 1
    after = _access(stack, gateway, bob["token"])
    assert after["groups"] == [group["id"]] and after["permissions"]["workspace"]["tools"]
    me = httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(bob["token"])).json()
    assert me["permissions"]["workspace"]["tools"] is True
    config = httpx.get(f"{gateway}/api/config", headers=bearer(bob["token"])).json()
    assert config["permissions"]["workspace"]["tools"] is True
    assert [g["id"] for g in httpx.get(f"{gateway}/api/v1/groups/",
                                       headers=bearer(bob["token"])).json()] == [group["id"]]
    _post(gateway, f"/api/v1/groups/id/{group['id']}/users/remove", admin["token"],
          {"user_ids": [bob["id"]]})
    gone = _access(stack, gateway, bob["token"])
    assert gone["groups"] == [] and not gone["permissions"]["workspace"]["tools"]


def test_a_header_from_outside_never_reaches_a_service(stack: Stack, gateway: str,
                                                      bob: dict) -> None:
    forged = jwt.encode({"sub": bob["id"], "aud": AUDIENCE, "exp": time.time() + 60,
                         "groups": ["admins"], "permissions": {"workspace": {"tools": True}}},
                        "guessed-secret-guessed-secret-32b", algorithm="HS256")
    value = _header(gateway, bob["token"], **{"X-Owui-Access": forged})
    assert value != forged
    assert jwt.decode(value, stack.env["JWT_SECRET_KEY"], algorithms=["HS256"],
                      audience=AUDIENCE)["groups"] == []


def test_default_permissions_change_everyone(stack: Stack, gateway: str, admin: dict,
                                             bob: dict) -> None:
    url = f"{gateway}/api/v1/users/default/permissions"
    defaults = httpx.get(url, headers=bearer(admin["token"])).json()
    assert defaults["chat"]["delete"] is True
    changed = {**defaults, "chat": {**defaults["chat"], "delete": False}}
    try:
        assert _post(gateway, "/api/v1/users/default/permissions", admin["token"],
                     changed).status_code == 200
        assert _access(stack, gateway, bob["token"])["permissions"]["chat"]["delete"] is False
    finally:
        _post(gateway, "/api/v1/users/default/permissions", admin["token"], defaults)
    assert _access(stack, gateway, bob["token"])["permissions"]["chat"]["delete"] is True


def test_a_second_replica_sees_a_change_within_seconds(stack: Stack, make_gateway, admin: dict,
                                                       gateway: str, bob: dict,
                                                       group: dict) -> None:
    other = make_gateway(data_dir=Path(stack.env["OWUI_DATA_DIR"])).url
    assert _access(stack, other, bob["token"])["groups"] == []
    _post(gateway, f"/api/v1/groups/id/{group['id']}/users/add", admin["token"],
          {"user_ids": [bob["id"]]})
    started = time.monotonic()
    while _access(stack, other, bob["token"])["groups"] != [group["id"]]:
        assert time.monotonic() - started < 3, "the other replica did not see the change"
        time.sleep(0.1)


def test_an_unknown_member_is_refused_and_nothing_is_added(gateway: str, admin: dict,
                                                           bob: dict, group: dict) -> None:
    refused = _post(gateway, f"/api/v1/groups/id/{group['id']}/users/add", admin["token"],
                    {"user_ids": [bob["id"], "nobody-at-all"]})
    assert refused.status_code == 400 and "nobody-at-all" in refused.json()["detail"]
    found = httpx.get(f"{gateway}/api/v1/groups/id/{group['id']}",
                      headers=bearer(admin["token"])).json()
    assert found["member_count"] == 0


def test_group_crud_and_members(gateway: str, admin: dict, bob: dict, group: dict) -> None:
    gid = group["id"]
    child = _post(gateway, "/api/v1/groups/create", admin["token"],
                  {"name": "Juniors", "description": "", "parent_group_id": gid}).json()
    _post(gateway, f"/api/v1/groups/id/{child['id']}/users/add", admin["token"],
          {"user_ids": [bob["id"]]})
    members = httpx.get(f"{gateway}/api/v1/groups/id/{gid}/members",
                        headers=bearer(admin["token"])).json()
    assert members["counts"] == {"direct": 0, "effective": 1, "inherited": 1}
    assert members["items"][0]["membership_type"] == "inherited"
    assert members["items"][0]["via_group_ids"] == [child["id"]]
    loop = _post(gateway, f"/api/v1/groups/id/{gid}/update", admin["token"],
                 {"name": "Builders", "description": "", "parent_group_id": child["id"]})
    assert loop.status_code == 400
    renamed = _post(gateway, f"/api/v1/groups/id/{child['id']}/update", admin["token"],
                    {"name": "Apprentices", "description": "new"}).json()
    assert renamed["name"] == "Apprentices" and renamed["parent_group_id"] is None
    exported = httpx.get(f"{gateway}/api/v1/groups/id/{child['id']}/export",
                         headers=bearer(admin["token"])).json()
    assert exported["user_ids"] == [bob["id"]]
    info = httpx.get(f"{gateway}/api/v1/groups/id/{child['id']}/info",
                     headers=bearer(bob["token"])).json()
    assert info["member_count"] == 1 and "permissions" not in info
    assert httpx.delete(f"{gateway}/api/v1/groups/id/{child['id']}/delete",
                        headers=bearer(admin["token"])).json() is True
    assert httpx.get(f"{gateway}/api/v1/groups/id/{child['id']}",
                     headers=bearer(admin["token"])).status_code == 404


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/groups/create"), ("GET", "/api/v1/groups/id/{gid}"),
    ("POST", "/api/v1/groups/id/{gid}/update"), ("POST", "/api/v1/groups/id/{gid}/users/add"),
    ("POST", "/api/v1/groups/id/{gid}/users/remove"), ("GET", "/api/v1/groups/id/{gid}/export"),
    ("GET", "/api/v1/groups/id/{gid}/members"), ("POST", "/api/v1/groups/id/{gid}/users"),
    ("DELETE", "/api/v1/groups/id/{gid}/delete"),
])
def test_a_user_may_not_manage_groups(gateway: str, bob: dict, group: dict, method: str,
                                      path: str) -> None:
    body = {"name": "x", "description": "", "user_ids": [bob["id"]]}
    refused = httpx.request(method, gateway + path.format(gid=group["id"]),
                            headers=bearer(bob["token"]),
                            json=body if method == "POST" else None)
    assert refused.status_code == 403, refused.text
