"""Sign-up, sign-in, sign-out, API keys and user administration, through the gateway."""

from __future__ import annotations

import time

import httpx

from tests.conftest import bearer, signup


def test_first_account_is_admin_and_next_get_default_role(gateway: str, admin: dict) -> None:
    assert admin["role"] == "admin"
    assert admin["token_type"] == "Bearer"
    assert admin["expires_at"] > time.time()
    user = signup(gateway)
    assert user["role"] == "user"
    assert set(user) >= {"id", "email", "name", "role", "token", "token_type", "expires_at"}


def test_signup_rejects_duplicates_and_bad_input(gateway: str) -> None:
    user = signup(gateway, email="dup@example.com")
    again = httpx.post(f"{gateway}/api/v1/auths/signup",
                       json={"name": "X", "email": "DUP@example.com", "password": "longenough"})
    assert again.status_code == 409
    bad = httpx.post(f"{gateway}/api/v1/auths/signup",
                     json={"name": "X", "email": "not-an-email", "password": "longenough"})
    assert bad.status_code == 422
    assert any("email" in e["loc"] for e in bad.json()["detail"])
    short = httpx.post(f"{gateway}/api/v1/auths/signup",
                       json={"name": "X", "email": "s@example.com", "password": "short"})
    assert short.status_code == 422
    assert user["email"] == "dup@example.com"


def test_signin_and_current_user(gateway: str) -> None:
    user = signup(gateway, email="signin@example.com", password="s3cret-pass")
    response = httpx.post(f"{gateway}/api/v1/auths/signin",
                          json={"email": "Signin@Example.com", "password": "s3cret-pass"})
    assert response.status_code == 200
    session = response.json()
    assert session["id"] == user["id"] and session["token"] != user["token"]
    me = httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(session["token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "signin@example.com"
    assert me.json()["token"] == session["token"]


def test_wrong_password_and_unknown_email_are_401(gateway: str) -> None:
    signup(gateway, email="wrong@example.com", password="right-password")
    for email, password in (("wrong@example.com", "not-it-at-all"),
                            ("nobody@example.com", "right-password")):
        response = httpx.post(f"{gateway}/api/v1/auths/signin",
                              json={"email": email, "password": password})
        assert response.status_code == 401
        assert response.json() == {"detail": "The email or password is incorrect."}


def test_signout_revokes_the_token(gateway: str) -> None:
    token = signup(gateway)["token"]
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(token)).status_code == 200
    out = httpx.post(f"{gateway}/api/v1/auths/signout", headers=bearer(token))
    assert out.status_code == 200
    for path in ("/api/v1/auths/", "/api/v1/chats/"):
        refused = httpx.get(gateway + path, headers=bearer(token))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"


def test_update_password(gateway: str) -> None:
    user = signup(gateway, email="pw@example.com", password="first-password")
    headers = bearer(user["token"])
    wrong = httpx.post(f"{gateway}/api/v1/auths/update/password", headers=headers,
                       json={"password": "not-the-first", "new_password": "second-password"})
    assert wrong.status_code == 400
    ok = httpx.post(f"{gateway}/api/v1/auths/update/password", headers=headers,
                    json={"password": "first-password", "new_password": "second-password"})
    assert ok.status_code == 200 and ok.json() is True
    old = httpx.post(f"{gateway}/api/v1/auths/signin",
                     json={"email": "pw@example.com", "password": "first-password"})
    assert old.status_code == 401
    new = httpx.post(f"{gateway}/api/v1/auths/signin",
                     json={"email": "pw@example.com", "password": "second-password"})
    assert new.status_code == 200


def test_api_key_works_everywhere_and_can_be_revoked(stack, gateway: str) -> None:
    user = signup(gateway)
    created = httpx.post(f"{gateway}/api/v1/auths/api_key", headers=bearer(user["token"]))
    assert created.status_code == 200
    key = created.json()["api_key"]
    assert key.startswith("sk-")
    shown = httpx.get(f"{gateway}/api/v1/auths/api_key", headers=bearer(user["token"])).json()
    assert shown["api_key"] != key and key.startswith(shown["api_key"].rstrip("."))

    me = httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(key))
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    # Upstream, the key arrives as a short-lived JWT for the same user, never as the key.
    echo = httpx.post(f"{gateway}/api/v1/agents/echo", headers=bearer(key), json={})
    assert echo.status_code == 200
    upstream_auth = dict(echo.json()["headers"])["authorization"]
    assert upstream_auth.startswith("Bearer ey") and key not in upstream_auth
    direct = httpx.get(f"{stack.url('chat')}/api/v1/chats/x", headers={"Authorization":
                                                                      upstream_auth})
    assert direct.status_code != 401

    deleted = httpx.delete(f"{gateway}/api/v1/auths/api_key", headers=bearer(user["token"]))
    assert deleted.status_code == 200 and deleted.json() is True
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(key)).status_code == 401


def test_named_api_keys_are_listed_without_secrets(gateway: str) -> None:
    user = signup(gateway)
    headers = bearer(user["token"])
    made = httpx.post(f"{gateway}/api/v1/auths/api_keys", headers=headers, json={"name": "ci"})
    assert made.status_code == 201
    key = made.json()["api_key"]
    listed = httpx.get(f"{gateway}/api/v1/auths/api_keys", headers=headers).json()
    assert [k["name"] for k in listed] == ["ci"]
    assert "api_key" not in listed[0] and key not in str(listed)
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(key)).status_code == 200
    gone = httpx.delete(f"{gateway}/api/v1/auths/api_keys/{listed[0]['id']}", headers=headers)
    assert gone.status_code == 200
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(key)).status_code == 401
    other = signup(gateway)
    missing = httpx.delete(f"{gateway}/api/v1/auths/api_keys/{listed[0]['id']}",
                           headers=bearer(other["token"]))
    assert missing.status_code == 404


def test_users_admin_routes(gateway: str, admin: dict) -> None:
    user = signup(gateway, name="Someone")
    as_user = httpx.get(f"{gateway}/api/v1/users/", headers=bearer(user["token"]))
    assert as_user.status_code == 403

    listed = httpx.get(f"{gateway}/api/v1/users/", headers=bearer(admin["token"]),
                       params={"query": "someone"})
    assert listed.status_code == 200
    assert user["id"] in [u["id"] for u in listed.json()["users"]]
    assert listed.json()["total"] >= 1

    updated = httpx.post(f"{gateway}/api/v1/users/{user['id']}/update",
                         headers=bearer(admin["token"]), json={"role": "admin", "name": "Boss"})
    assert updated.status_code == 200
    assert updated.json()["role"] == "admin" and updated.json()["name"] == "Boss"
    # A role change ends the sessions that carried the old role.
    assert httpx.get(f"{gateway}/api/v1/auths/", headers=bearer(user["token"])).status_code == 401

    assert httpx.get(f"{gateway}/api/v1/users/nope", headers=bearer(admin["token"])
                     ).status_code == 404
    deleted = httpx.delete(f"{gateway}/api/v1/users/{user['id']}", headers=bearer(admin["token"]))
    assert deleted.status_code == 200 and deleted.json() is True
    assert httpx.get(f"{gateway}/api/v1/users/{user['id']}", headers=bearer(admin["token"])
                     ).status_code == 404
    self_delete = httpx.delete(f"{gateway}/api/v1/users/{admin['id']}",
                               headers=bearer(admin["token"]))
    assert self_delete.status_code == 400


def test_pending_users_reach_only_auths(make_gateway) -> None:
    gw = make_gateway(DEFAULT_USER_ROLE="pending").url
    first = signup(gw)
    assert first["role"] == "admin"
    pending = signup(gw)
    assert pending["role"] == "pending"
    headers = bearer(pending["token"])
    assert httpx.get(f"{gw}/api/v1/auths/", headers=headers).status_code == 200
    for path in ("/api/v1/chats/", "/api/v1/inference/models", "/api/v1/users/"):
        refused = httpx.get(gw + path, headers=headers)
        assert refused.status_code == 403, path
        assert "pending" in refused.json()["detail"]
    promoted = httpx.post(f"{gw}/api/v1/users/{pending['id']}/update",
                          headers=bearer(first["token"]), json={"role": "user"})
    assert promoted.status_code == 200
    session = httpx.post(f"{gw}/api/v1/auths/signin",
                         json={"email": pending["email"], "password": "correct-horse"}).json()
    assert session["role"] == "user"
    assert httpx.get(f"{gw}/api/v1/chats/x", headers=bearer(session["token"])).status_code == 404


def test_revocation_reaches_other_replicas(make_gateway, tmp_path) -> None:
    shared = tmp_path / "shared"
    one = make_gateway(data_dir=shared, REVOCATION_SYNC_INTERVAL="0.2")
    two = make_gateway(data_dir=shared, REVOCATION_SYNC_INTERVAL="0.2")
    token = signup(one.url)["token"]
    assert httpx.get(f"{two.url}/api/v1/auths/", headers=bearer(token)).status_code == 200
    assert httpx.post(f"{one.url}/api/v1/auths/signout", headers=bearer(token)).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if httpx.get(f"{two.url}/api/v1/auths/", headers=bearer(token)).status_code == 401:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the other replica still accepts a revoked token")
