"""Rate limits: what costs (model calls, uploads, searches) per user, a flood guard on every
request, sign-ins per address and failed ones per account; in memory and through Redis."""

from __future__ import annotations

import uuid

import httpx
import pytest

from owui.gateway.ratelimit import MODEL, SEARCH, UPLOAD, cost_of
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


def test_costly_requests_have_a_budget_reads_do_not(make_gateway) -> None:
    gw = make_gateway(MODEL_RATE_LIMIT="2/minute", SEARCH_RATE_LIMIT="1/minute").url
    headers = bearer(signup(gw)["token"])
    turns = [httpx.post(f"{gw}/api/chat/completions", headers=headers, json={}).status_code
             for _ in range(3)]
    assert 429 not in turns[:2] and turns[2] == 429, turns
    # Another budget, and reads (the same service's) are not counted at all.
    query = f"{gw}/api/v1/retrieval/query/doc"
    assert httpx.post(query, headers=headers, json={}).status_code != 429
    assert httpx.post(query, headers=headers, json={}).status_code == 429
    assert 429 not in {httpx.get(f"{gw}/api/v1/chats/", headers=headers).status_code
                       for _ in range(20)}
    assert httpx.get(f"{gw}/api/v1/auths/", headers=headers).status_code == 200


@pytest.mark.parametrize(("method", "path", "cost"), [
    ("GET", "/api/v1/chats/", None), ("GET", "/api/v1/retrieval/jobs/j1", None),
    ("POST", "/api/v1/chats/new", None), ("POST", "/api/v1/knowledge/k1/file/add", None),
    ("POST", "/api/chat/completions", MODEL), ("POST", "/api/v1/chats/c1/completions", MODEL),
    ("POST", "/api/v1/tasks/title/completions", MODEL), ("POST", "/ollama/api/chat", MODEL),
    ("POST", "/openai/chat/completions", MODEL), ("POST", "/api/v1/embeddings", MODEL),
    ("POST", "/ollama/v1/chat/completions/0", MODEL),
    ("POST", "/api/v1/files/", UPLOAD), ("POST", "/ollama/models/upload/1", UPLOAD),
    ("POST", "/api/v1/retrieval/query/collection", SEARCH),
    ("POST", "/api/v1/retrieval/process/web/search", SEARCH),
])
def test_what_each_request_costs(method: str, path: str, cost: str | None) -> None:
    assert cost_of(method, path) == cost
