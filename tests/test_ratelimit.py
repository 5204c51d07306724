"""Rate limits: per user, per address before sign-in, stricter on sign-in; in memory and Redis."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import bearer, signup

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_per_user_limit_with_retry_after(make_gateway) -> None:
    gw = make_gateway(RATE_LIMIT="5/minute", SIGNIN_RATE_LIMIT="100/minute").url
    one, two = signup(gw), signup(gw)
    statuses = [httpx.get(f"{gw}/api/v1/auths/", headers=bearer(one["token"])).status_code
                for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = httpx.get(f"{gw}/api/v1/chats/", headers=bearer(one["token"]))
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "retry" in limited.json()["detail"].lower()
    # Another user has a budget of their own.
    assert httpx.get(f"{gw}/api/v1/auths/", headers=bearer(two["token"])).status_code == 200


def test_signin_is_limited_per_address(make_gateway) -> None:
    gw = make_gateway(RATE_LIMIT="1000/minute", SIGNIN_RATE_LIMIT="3/minute").url
    statuses = [httpx.post(f"{gw}/api/v1/auths/signin",
                           json={"email": "x@example.com", "password": "guess"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_anonymous_requests_are_limited_per_address(make_gateway) -> None:
    gw = make_gateway(RATE_LIMIT="3/minute", SIGNIN_RATE_LIMIT="100/minute").url
    statuses = [httpx.post(f"{gw}/api/v1/auths/signup", json={}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


def test_replicas_share_one_limit_through_redis(make_gateway, tmp_path) -> None:
    shared = tmp_path / "shared"
    one = make_gateway(data_dir=shared, REDIS_URL=REDIS_URL, RATE_LIMIT="6/minute",
                       SIGNIN_RATE_LIMIT="100/minute")
    two = make_gateway(data_dir=shared, REDIS_URL=REDIS_URL, RATE_LIMIT="6/minute",
                       SIGNIN_RATE_LIMIT="100/minute")
    token = signup(one.url, email=f"{uuid.uuid4().hex}@example.com")["token"]
    statuses = []
    for index in range(8):
        url = (one if index % 2 else two).url
        statuses.append(httpx.get(f"{url}/api/v1/auths/", headers=bearer(token)).status_code)
    assert statuses.count(200) == 6 and statuses[-2:] == [429, 429], statuses
