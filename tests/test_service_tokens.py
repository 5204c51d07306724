"""Every service, reached directly, refuses a missing, forged, expired or unsigned token."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import httpx
import jwt
import pytest

from owui.core.tokens import issue_token, verify_token
from tests.conftest import bearer

SERVICES = ("gateway", "inference", "agent", "retrieval", "chat")
PROBES = ("/api/v1/chats/", "/api/v1/does-not-exist", "/")
# The gateway's "/" is the web app's page, public by design (DESIGN.md, "Trust between
# services"): tests/webapp checks it; every API path of the gateway is probed here.
GATEWAY_PROBES = ("/api/v1/chats/", "/api/v1/does-not-exist", "/api/nothing")


def _unsigned(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _bad_tokens(secret: str) -> dict[str, str | None]:
    now = time.time()
    claims = {"sub": "u1", "role": "admin", "jti": "j", "iat": now, "exp": now + 600}
    return {
        "missing": None,
        "garbage": "not-a-token",
        "other key": jwt.encode(claims, "another-secret-key-entirely-32by", algorithm="HS256"),
        "expired": jwt.encode({**claims, "iat": now - 20, "exp": now - 10}, secret,
                              algorithm="HS256"),
        "alg none": _unsigned(claims),
        "no role": jwt.encode({k: v for k, v in claims.items() if k != "role"}, secret,
                              algorithm="HS256"),
        "unknown role": jwt.encode({**claims, "role": "root"}, secret, algorithm="HS256"),
    }


@pytest.mark.parametrize("service", SERVICES)
def test_service_refuses_bad_tokens(stack, jwt_secret: str, service: str) -> None:
    base = stack.url(service)
    for label, token in _bad_tokens(jwt_secret).items():
        for path in GATEWAY_PROBES if service == "gateway" else PROBES:
            headers = bearer(token) if token else {}
            response = httpx.get(base + path, headers=headers)
            assert response.status_code == 401, (service, label, path, response.text)
            assert response.json()["detail"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_health_and_openapi_are_public(stack, service: str) -> None:
    base = stack.url(service)
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok", "service": service}
    assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
    document = httpx.get(f"{base}/openapi.json")
    # The gateway's document is the whole API's (tests/openapi).
    title = "owui" if service == "gateway" else f"owui {service}"
    assert document.status_code == 200 and document.json()["info"]["title"] == title


@pytest.mark.parametrize("service", ("inference", "agent", "retrieval", "chat"))
def test_service_accepts_a_valid_token(stack, jwt_secret: str, service: str) -> None:
    token, _ = issue_token(jwt_secret, "u1", "user", timedelta(minutes=5))
    response = httpx.get(stack.url(service) + "/api/v1/does-not-exist", headers=bearer(token))
    assert response.status_code == 404
    assert response.headers["x-request-id"]


def test_pending_token_is_refused_by_services(stack, jwt_secret: str) -> None:
    token, _ = issue_token(jwt_secret, "u1", "pending", timedelta(minutes=5))
    response = httpx.get(stack.url("chat") + "/api/v1/chats/", headers=bearer(token))
    assert response.status_code == 403


def test_a_token_carries_the_users_name_when_issued_with_one(jwt_secret: str) -> None:
    named, _ = issue_token(jwt_secret, "u1", "user", timedelta(minutes=5), name="Ada")
    assert verify_token(jwt_secret, named).name == "Ada"
    plain, _ = issue_token(jwt_secret, "u1", "user", timedelta(minutes=5))
    assert verify_token(jwt_secret, plain).name is None
