"""The admin's side of the gateway through the real gateway: the auth settings (sign-up, default
role and group, token lifetime) applied at once and on a second replica within seconds, the
Users page (add, list and search, edit, revoke sessions, delete), the user's own variables and
info, config export and import checked whole, and every admin route refusing a user."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.authz.operations import admin_only
from tests.conftest import Stack, bearer, signup

PASSWORD = "correct-horse"


def _ok(response: httpx.Response, status: int = 200) -> object:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json()


@pytest.fixture
def settings(gateway: str, admin: dict) -> Iterator[dict]:
    """The admin config as it was; put back whatever a test changed."""
    url, headers = f"{gateway}/api/v1/auths/admin/config", bearer(admin["token"])
    before = _ok(httpx.get(url, headers=headers))
    yield before
    _ok(httpx.post(url, headers=headers, json=before))


def _configure(gateway: str, admin: dict, **changes: object) -> httpx.Response:
    return httpx.post(f"{gateway}/api/v1/auths/admin/config", headers=bearer(admin["token"]),
                      json=changes)


def _add(gateway: str, admin: dict, name: str, role: str = "user") -> dict:
    return _ok(httpx.post(f"{gateway}/api/v1/auths/add", headers=bearer(admin["token"]), json={
        "name": name, "email": f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com",
        "password": PASSWORD, "role": role}))


def _signin(gateway: str, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{gateway}/api/v1/auths/signin",
                      json={"email": email, "password": password})


def test_sign_up_off_everywhere_within_seconds(stack: Stack, make_gateway, gateway: str,
                                              admin: dict, settings: dict) -> None:
    other = make_gateway(data_dir=Path(stack.env["OWUI_DATA_DIR"])).url
    assert _ok(httpx.get(f"{other}/api/config"))["features"]["enable_signup"] is True
    assert _ok(_configure(gateway, admin, ENABLE_SIGNUP=False))["ENABLE_SIGNUP"] is False
    config = _ok(httpx.get(f"{gateway}/api/config"))
    assert config["features"]["enable_signup"] is False  # the sign-in page hides the form
    refused = httpx.post(f"{gateway}/api/v1/auths/signup", json={
        "name": "Late", "email": "late@example.com", "password": PASSWORD})
    assert refused.status_code == 403 and "Sign-up is turned off" in refused.json()["detail"]
    started = time.monotonic()
    while _ok(httpx.get(f"{other}/api/config"))["features"]["enable_signup"]:
        assert time.monotonic() - started < 3, "the other replica still offers sign-up"
        time.sleep(0.1)
    assert httpx.post(f"{other}/api/v1/auths/signup", json={
        "name": "Late", "email": "late@example.com", "password": PASSWORD}).status_code == 403
    added = _add(gateway, admin, "Invited")  # the admin still adds accounts
    assert _signin(gateway, added["email"]).status_code == 200


def test_new_accounts_get_the_default_role_and_group(gateway: str, admin: dict,
                                                     settings: dict) -> None:
    headers = bearer(admin["token"])
    group = _ok(httpx.post(f"{gateway}/api/v1/groups/create", headers=headers,
                           json={"name": "Newcomers", "description": ""}))
    try:
        unknown = _configure(gateway, admin, DEFAULT_GROUP_ID="no-such-group",
                             ENABLE_SIGNUP=False)
        assert unknown.status_code == 400 and "no-such-group" in unknown.json()["detail"]
        assert _ok(httpx.get(f"{gateway}/api/config"))["features"]["enable_signup"] is True
        _ok(_configure(gateway, admin, DEFAULT_USER_ROLE="pending", DEFAULT_GROUP_ID=group["id"]))
        newcomer = signup(gateway, name="Newcomer")
        assert newcomer["role"] == "pending"
        members = _ok(httpx.get(f"{gateway}/api/v1/groups/id/{group['id']}/export",
                                headers=headers))
        assert members["user_ids"] == [newcomer["id"]]
    finally:
        _configure(gateway, admin, DEFAULT_GROUP_ID="")
        httpx.delete(f"{gateway}/api/v1/groups/id/{group['id']}/delete", headers=headers)


def test_the_token_lifetime_applies_to_the_next_sign_in(gateway: str, admin: dict,
                                                        settings: dict) -> None:
    user = _add(gateway, admin, "Timed")
    refused = _configure(gateway, admin, JWT_EXPIRES_IN="-1")
    assert refused.status_code == 400 and "JWT_EXPIRES_IN" in refused.json()["detail"]
    _ok(_configure(gateway, admin, JWT_EXPIRES_IN="1h"))
    session = _ok(_signin(gateway, user["email"]))
    assert abs(session["expires_at"] - (time.time() + 3600)) < 60


def test_the_users_page(gateway: str, admin: dict) -> None:
    headers = bearer(admin["token"])
    tag = uuid.uuid4().hex[:6]
    made = [_add(gateway, admin, f"Page{tag}{n}") for n in "cab"]
    listed = _ok(httpx.get(f"{gateway}/api/v1/users/", headers=headers,
                           params={"query": f"page{tag}", "order_by": "name"}))
    assert listed["total"] == 3
    assert [u["name"][-1] for u in listed["users"]] == ["a", "b", "c"]
    assert all(u["group_ids"] == [] for u in listed["users"])
    second = _ok(httpx.get(f"{gateway}/api/v1/users/", headers=headers, params={"page": "2"}))
    assert second["total"] == _ok(httpx.get(f"{gateway}/api/v1/users/all", headers=headers)
                                  )["total"]
    one = made[0]
    shown = _ok(httpx.get(f"{gateway}/api/v1/users/{one['id']}", headers=headers))
    assert shown["name"] == one["name"] and shown["groups"] == []
    taken = httpx.post(f"{gateway}/api/v1/users/{one['id']}/update", headers=headers,
                       json={"email": made[1]["email"]})
    assert taken.status_code == 409
    # The page's edit form sends the whole user back, the password blank when unchanged.
    edited = _ok(httpx.post(f"{gateway}/api/v1/users/{one['id']}/update", headers=headers,
                            json={**shown, "name": "Edited", "password": ""}))
    assert edited["name"] == "Edited"
    assert edited["profile_image_url"] == shown["profile_image_url"]
    old_token = one["token"]
    assert _signin(gateway, one["email"]).status_code == 200
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(old_token)).status_code == 200
    _ok(httpx.post(f"{gateway}/api/v1/users/{one['id']}/update", headers=headers,
                   json={"name": "Renamed", "password": "another-horse", "role": "user"}))
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(old_token)).status_code == 401
    assert _signin(gateway, one["email"]).status_code == 401
    assert _ok(_signin(gateway, one["email"], "another-horse"))["name"] == "Renamed"


def test_the_group_dialog_lists_members_first(gateway: str, admin: dict) -> None:
    """The group dialog's Users tab asks for `order_by=group_id:<id>`: every user, the group's
    members first (then by the order asked for); another order is a 422 naming the field."""
    headers = bearer(admin["token"])
    tag = uuid.uuid4().hex[:6]
    first, second = (_add(gateway, admin, f"Member{tag}{n}") for n in "ab")
    group = _ok(httpx.post(f"{gateway}/api/v1/groups/create", headers=headers,
                           json={"name": f"Ordered {tag}", "description": ""}))
    _ok(httpx.post(f"{gateway}/api/v1/groups/id/{group['id']}/users/add", headers=headers,
                   json={"user_ids": [second["id"]]}))
    listed = _ok(httpx.get(f"{gateway}/api/v1/users/", headers=headers, params={
        "query": f"member{tag}", "order_by": f"group_id:{group['id']}", "direction": "asc"}))
    assert [u["id"] for u in listed["users"]] == [second["id"], first["id"]]
    assert listed["users"][0]["group_ids"] == [group["id"]]
    wrong = httpx.get(f"{gateway}/api/v1/users/", headers=headers, params={"order_by": "id"})
    assert wrong.status_code == 422 and "order_by" in wrong.text


def test_sessions_revoked_and_a_deleted_user_is_gone(gateway: str, admin: dict) -> None:
    headers = bearer(admin["token"])
    user = _add(gateway, admin, "Leaving")
    session = _ok(_signin(gateway, user["email"]))
    assert _ok(httpx.post(f"{gateway}/api/v1/users/{user['id']}/sessions/revoke",
                          headers=headers)) is True
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(session["token"])
                     ).status_code == 401
    session = _ok(_signin(gateway, user["email"]))
    group = _ok(httpx.post(f"{gateway}/api/v1/groups/create", headers=headers,
                           json={"name": "Keepers", "description": ""}))
    _ok(httpx.post(f"{gateway}/api/v1/groups/id/{group['id']}/users/add", headers=headers,
                   json={"user_ids": [user["id"]]}))
    assert _ok(httpx.delete(f"{gateway}/api/v1/users/{user['id']}", headers=headers)) is True
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(session["token"])
                     ).status_code == 401
    assert httpx.get(f"{gateway}/api/v1/users/{user['id']}", headers=headers).status_code == 404
    assert _ok(httpx.get(f"{gateway}/api/v1/groups/id/{group['id']}", headers=headers)
               )["member_count"] == 0
    httpx.delete(f"{gateway}/api/v1/groups/id/{group['id']}/delete", headers=headers)


def test_a_users_own_variables_and_info(gateway: str) -> None:
    headers = bearer(signup(gateway)["token"])
    url = f"{gateway}/api/v1/users/user"
    bad = httpx.post(f"{url}/variables/update", headers=headers,
                     json={"variables": {"City": "Lyon"}})
    assert bad.status_code == 400 and "City" in bad.json()["detail"]
    _ok(httpx.post(f"{url}/variables/update", headers=headers,
                   json={"variables": {"city": "Lyon", "floor": 3}}))
    assert _ok(httpx.get(f"{url}/variables", headers=headers)) == {
        "variables": {"city": "Lyon", "floor": "3"}}
    _ok(httpx.post(f"{url}/info/update", headers=headers, json={"a": 1}))
    assert _ok(httpx.post(f"{url}/info/update", headers=headers, json={"b": 2})) == {"a": 1,
                                                                                    "b": 2}


def test_a_config_import_of_the_wrong_shape_changes_nothing(gateway: str, admin: dict) -> None:
    headers = bearer(admin["token"])
    before = _ok(httpx.get(f"{gateway}/api/v1/configs/export", headers=headers))
    banner = {"id": "b1", "type": "info", "content": "hello", "dismissible": True,
              "timestamp": 1}
    for config in ({"BANNERS": [banner], "ENABLE_SIGNUP": "maybe"},
                   {"BANNERS": [banner], "openai.api_base_urls": ["http://x"]},
                   {"BANNERS": [banner], "DEFAULT_GROUP_ID": "no-such-group"}):
        refused = httpx.post(f"{gateway}/api/v1/configs/import", headers=headers,
                             json={"config": config})
        assert refused.status_code == 400, refused.text
    assert _ok(httpx.get(f"{gateway}/api/v1/configs/export", headers=headers)) == before
    again = _ok(httpx.post(f"{gateway}/api/v1/configs/import", headers=headers,
                           json={"config": before}))
    assert again == before


def test_a_user_is_refused_on_every_admin_route(gateway: str) -> None:
    routes = sorted(admin_only(["gateway"]))
    assert len(routes) >= 40
    headers = bearer(signup(gateway)["token"])
    wrong = []
    for method, path in routes:
        url = gateway + path.replace("{", "").replace("}", "")
        answer = httpx.request(method, url, headers=headers,
                               json={} if method in ("POST", "PUT", "PATCH") else None)
        if answer.status_code != 403:
            wrong.append(f"{method} {path} -> {answer.status_code} {answer.text[:100]}")
    assert not wrong, "\n".join(wrong)
