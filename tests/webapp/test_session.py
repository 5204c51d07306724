"""The public app routes, the web app's cookie (and its same-origin rule), and the calls the
app makes on every load, answered in Open WebUI's shapes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

import owui
from tests.conftest import bearer
from tests.support.procs import REPO, Proc
from tests.webapp.fake_build import FILES

# Open WebUI's own answers (tests/support/conformance.py checks every operation in full; here
# the few this file is about, when the reference material is there).
_REFERENCE = Path(os.environ.get("OWUI_REFERENCE_DIR") or REPO.parent / "shared" / "reference")
_SAMPLES_FILE = _REFERENCE / "openwebui-0.12.4-samples.json"
SAMPLES = json.loads(_SAMPLES_FILE.read_text()) if _SAMPLES_FILE.is_file() else {}
PASSWORD = "correct-horse"


def _signup(url: str, email: str, name: str = "Ada", **kwargs) -> httpx.Response:
    response = httpx.post(f"{url}/api/v1/auths/signup", **kwargs,
                          json={"name": name, "email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response


def _same_shape(ours: object, theirs: object, where: str = "") -> None:
    """Every key of Open WebUI's answer, with the same JSON type (null matches anything)."""
    if theirs is None:
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        for key, value in theirs.items():
            assert key in ours, f"{where}.{key} missing"
            _same_shape(ours[key], value, f"{where}.{key}")
        return
    kinds = (int, float) if isinstance(theirs, int | float) and not isinstance(theirs, bool) \
        else type(theirs)
    assert isinstance(ours, kinds), f"{where}: {ours!r} is not like {theirs!r}"


def test_config_version_and_changelog_are_public(app_gateway: Proc) -> None:
    url = app_gateway.url
    first = httpx.get(f"{url}/api/config").json()
    assert first["onboarding"] is True and first["name"] == "Open WebUI"
    assert first["version"] == owui.__version__
    if SAMPLES:
        _same_shape(first, SAMPLES["GET /api/config (no token, no users)"], "config")
    version = httpx.get(f"{url}/api/version", headers={"Authorization": "Bearer undefined"})
    assert version.json() == {"version": owui.__version__, "deployment_id": ""}
    changelog = httpx.get(f"{url}/api/changelog").json()
    entry = changelog[owui.__version__]
    assert entry["date"] and entry["added"][0]["content"] and entry["added"][0]["raw"]

    token = _signup(url, "ada@example.com").json()["token"]
    after = httpx.get(f"{url}/api/config").json()
    assert "onboarding" not in after and "permissions" not in after
    full = httpx.get(f"{url}/api/config", headers=bearer(token)).json()
    assert full["name"] == "Open WebUI" and "permissions" in full
    if SAMPLES:
        _same_shape(full, SAMPLES["GET /api/config (token)"], "config")
    # A bad token on a public route is no credential: the public part, not a 401.
    assert "permissions" not in httpx.get(f"{url}/api/config", headers=bearer("x.y.z")).json()


def test_signup_and_signin_set_the_cookie_and_signout_clears_it(app_gateway: Proc) -> None:
    url = app_gateway.url
    response = _signup(url, "cookie@example.com")
    cookie = response.headers["set-cookie"]
    token = response.json()["token"]
    assert cookie.startswith(f"token={token};")
    for part in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age="):
        assert part in cookie, part
    assert "Secure" not in cookie
    if SAMPLES:
        _same_shape(response.json(), SAMPLES["POST /api/v1/auths/signup -> body"], "signup")

    # Over HTTPS as a trusted proxy (uvicorn's FORWARDED_ALLOW_IPS: 127.0.0.1) says: Secure.
    signin = httpx.post(f"{url}/api/v1/auths/signin", headers={"X-Forwarded-Proto": "https"},
                        json={"email": "cookie@example.com", "password": PASSWORD})
    assert "Secure" in signin.headers["set-cookie"]
    assert signin.json()["permissions"]["chat"]["controls"] is True

    with httpx.Client(base_url=url) as browser:
        browser.cookies.set("token", token)
        for authorization in (None, "Bearer undefined", "Bearer null"):
            headers = {"Authorization": authorization} if authorization else {}
            me = browser.get("/api/v1/auths/", headers=headers)
            assert me.status_code == 200, authorization
            assert me.json()["token"] == token
        out = browser.post("/api/v1/auths/signout", headers={"Origin": url})
        assert out.status_code == 200
        assert 'token=""' in out.headers["set-cookie"] or "token=;" in out.headers["set-cookie"]
        assert "Max-Age=0" in out.headers["set-cookie"]
        browser.cookies.set("token", token)  # kept by a client that ignores the clearing
        assert browser.get("/api/v1/auths/").status_code == 401  # revoked


def test_cookie_requests_that_change_state_must_come_from_the_app(app_gateway: Proc,
                                                                   ) -> None:
    url = app_gateway.url
    token = _signup(url, "csrf@example.com").json()["token"]
    body = {"timezone": "Europe/Paris"}
    with httpx.Client(base_url=url, cookies={"token": token}) as browser:
        for headers in ({}, {"Origin": "https://evil.example"},
                        {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Sec-Fetch-Site": "same-site", "Origin": "https://a.example"}):
            refused = browser.post("/api/v1/auths/update/timezone", json=body, headers=headers)
            assert refused.status_code == 403, headers
            assert "Origin" in refused.json()["detail"]
        for headers in ({"Origin": url}, {"Sec-Fetch-Site": "same-origin"}):
            allowed = browser.post("/api/v1/auths/update/timezone", json=body, headers=headers)
            assert allowed.status_code == 200, headers
            assert allowed.json() == {"status": True}
        assert browser.get("/api/v1/auths/").json()["timezone"] == "Europe/Paris"
    # A bearer is not sent by the browser on its own: no origin rule for it.
    plain = httpx.post(f"{url}/api/v1/auths/update/timezone", json=body, headers={
        **bearer(token), "Origin": "https://evil.example"})
    assert plain.status_code == 200


def test_cookie_api_keys_and_revocation_apply_as_to_a_bearer(app_gateway: Proc) -> None:
    url = app_gateway.url
    token = _signup(url, "keys@example.com").json()["token"]
    key = httpx.post(f"{url}/api/v1/auths/api_key", headers=bearer(token)).json()["api_key"]
    assert httpx.get(f"{url}/api/v1/auths/", cookies={"token": key}).status_code == 200
    httpx.delete(f"{url}/api/v1/auths/api_key", headers=bearer(token))
    assert httpx.get(f"{url}/api/v1/auths/", cookies={"token": key}).status_code == 401
    assert httpx.get(f"{url}/api/v1/auths/", cookies={"token": "garbage"}).status_code == 401


def test_cookie_is_rate_limited_like_a_bearer(start_gateway) -> None:
    gateway = start_gateway(RATE_LIMIT="3/minute")
    token = _signup(gateway.url, "limited@example.com").json()["token"]
    statuses = [httpx.get(f"{gateway.url}/api/v1/auths/", cookies={"token": token}).status_code
                for _ in range(4)]
    assert statuses[-1] == 429, statuses


def test_what_the_app_calls_on_every_load(app_gateway: Proc) -> None:
    url = app_gateway.url
    ada = _signup(url, "load@example.com").json()
    headers = bearer(ada["token"])
    me = httpx.get(f"{url}/api/v1/auths/", headers=headers).json()
    for key in ("bio", "gender", "date_of_birth", "status_emoji", "status_message",
                "status_expires_at", "permissions", "expires_at", "token_type"):
        assert key in me, key
    assert me["profile_image_url"] == f"/api/v1/users/{ada['id']}/profile/image"
    banners = httpx.get(f"{url}/api/v1/configs/banners", headers=headers)
    assert banners.status_code == 200 and banners.json() == []
    bad = httpx.post(f"{url}/api/v1/auths/update/timezone", headers=headers, json={})
    assert bad.status_code == 422

    image = httpx.get(f"{url}{me['profile_image_url']}", cookies={"token": ada["token"]})
    assert image.status_code == 200
    assert image.content == FILES["static/user.png"].encode("latin-1")
    assert image.headers["content-type"] == "image/png"
    missing = httpx.get(f"{url}/api/v1/users/no-such-user/profile/image", headers=headers)
    assert missing.status_code == 404 and "no-such-user" in missing.json()["detail"]
    # A fixed word under the prefix is never looked up as an id.
    word = httpx.get(f"{url}/api/v1/users/usage", headers=headers)
    assert word.status_code in (403, 404) and "'usage'" not in word.text


def test_profile_image_set_by_the_user_and_without_an_app(start_gateway) -> None:
    gateway = start_gateway()
    url = gateway.url
    pixel = "iVBORw0KGgo="
    response = httpx.post(f"{url}/api/v1/auths/signup", json={
        "name": "Img", "email": "img@example.com", "password": PASSWORD,
        "profile_image_url": f"data:image/png;base64,{pixel}"})
    user = response.json()
    image = httpx.get(f"{url}/api/v1/users/{user['id']}/profile/image",
                      headers=bearer(user["token"]))
    assert image.status_code == 200 and image.content == b"\x89PNG\r\n\x1a\n"
    assert user["profile_image_url"] == f"/api/v1/users/{user['id']}/profile/image"
    plain = _signup(url, "plain@example.com").json()
    none = httpx.get(f"{url}/api/v1/users/{plain['id']}/profile/image",
                     headers=bearer(plain["token"]))
    assert none.status_code == 404 and "owui ui install" in none.json()["detail"]

    # The account settings: name, image (an address of its own: redirected), the profile.
    headers = bearer(plain["token"])
    updated = httpx.post(f"{url}/api/v1/auths/update/profile", headers=headers, json={
        "name": " Grace ", "profile_image_url": "https://images.example/grace.png",
        "bio": "Compilers.", "gender": "female", "date_of_birth": "1906-12-09"})
    assert updated.status_code == 200, updated.text
    assert updated.json() == {"id": plain["id"], "name": "Grace", "role": plain["role"],
                              "email": plain["email"],
                              "profile_image_url": f"/api/v1/users/{plain['id']}/profile/image"}
    me = httpx.get(f"{url}/api/v1/auths/", headers=headers).json()
    assert (me["name"], me["bio"], me["gender"], me["date_of_birth"]) == (
        "Grace", "Compilers.", "female", "1906-12-09")
    moved = httpx.get(f"{url}/api/v1/users/{plain['id']}/profile/image", headers=headers)
    assert moved.status_code == 302
    assert moved.headers["location"] == "https://images.example/grace.png"
    bad = httpx.post(f"{url}/api/v1/auths/update/profile", headers=headers, json={
        "name": "G", "profile_image_url": "", "date_of_birth": "not a date"})
    assert bad.status_code == 422


def test_only_a_trusted_proxy_makes_the_cookie_secure(start_gateway) -> None:
    """uvicorn's FORWARDED_ALLOW_IPS names the proxies believed: here none, so a client that
    claims HTTPS itself gets no Secure cookie (nor a forged address for the rate limits)."""
    gateway = start_gateway(FORWARDED_ALLOW_IPS="10.255.255.1")
    response = httpx.post(f"{gateway.url}/api/v1/auths/signup",
                          headers={"X-Forwarded-Proto": "https"},
                          json={"name": "P", "email": "proxy@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "Secure" not in response.headers["set-cookie"]
