"""Admin Panel > Settings > General (`/api/v1/auths/admin/*`), Users > Add user, and the
account's API key (`/api/v1/auths/*`), checked against Open WebUI's document. The settings are
posted back as they are, so that sign-up stays open for the other areas' accounts."""

from __future__ import annotations

import uuid

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import PASSWORD, World, fresh_user, get, ok

SOURCE = "Open WebUI 0.12.4's auths router"
ADMIN_CONFIG = {"SHOW_ADMIN_DETAILS": True, "WEBUI_URL": "", "ENABLE_SIGNUP": True,
                "ENABLE_API_KEYS": True, "ENABLE_API_KEYS_ENDPOINT_RESTRICTIONS": False,
                "API_KEYS_ALLOWED_ENDPOINTS": "", "DEFAULT_USER_ROLE": "pending",
                "DEFAULT_GROUP_ID": "", "JWT_EXPIRES_IN": "4w",
                "ENABLE_COMMUNITY_SHARING": True, "ENABLE_MESSAGE_RATING": True,
                "ENABLE_FOLDERS": True, "ENABLE_CHANNELS": False, "ENABLE_NOTES": True,
                "ENABLE_USER_WEBHOOKS": False, "ENABLE_USER_STATUS": False}


def _config_back(world: World) -> httpx.Response:
    config = ok(world.get("/api/v1/auths/admin/config"))
    return world.client.post("/api/v1/auths/admin/config", headers=world.bearer(), json=config)


def _add(world: World) -> httpx.Response:
    return world.client.post("/api/v1/auths/add", headers=world.bearer(), json={
        "name": "Eve", "email": f"eve-{uuid.uuid4().hex[:8]}@example.com",
        "password": PASSWORD, "role": "user"})


def _key(world: World, method: str) -> httpx.Response:
    """As an account of its own that has made its key first."""
    headers = fresh_user(world)
    ok(world.client.post("/api/v1/auths/api_key", headers=headers))
    return world.client.request(method, "/api/v1/auths/api_key", headers=headers)


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/auths/admin/config", "gateway", Shape(ADMIN_CONFIG, SOURCE),
              get("/api/v1/auths/admin/config"), label="every long-standing key"),
    Operation("POST", "/api/v1/auths/admin/config", "gateway",
              Shape({**ADMIN_CONFIG, "sessions_revoked": False}, SOURCE), _config_back),
    Operation("GET", "/api/v1/auths/admin/details", "gateway",
              Shape({"name": "", "email": ""}, SOURCE),
              lambda w: w.client.get("/api/v1/auths/admin/details", headers=fresh_user(w))),
    Operation("GET", "/api/v1/auths/admin/config/ldap", "gateway",
              Shape({"ENABLE_LDAP": False}, SOURCE), get("/api/v1/auths/admin/config/ldap")),
    Operation("POST", "/api/v1/auths/admin/config/ldap", "gateway",
              Shape({"ENABLE_LDAP": False}, SOURCE),
              lambda w: w.client.post("/api/v1/auths/admin/config/ldap", headers=w.bearer(),
                                      json={"enable_ldap": False})),
    Operation("GET", "/api/v1/auths/admin/config/ldap/server", "gateway", Schema(),
              get("/api/v1/auths/admin/config/ldap/server"), label="none configured"),
    Operation("GET", "/api/v1/auths/mfa/status", "gateway", Schema(),
              lambda w: w.client.get("/api/v1/auths/mfa/status", headers=fresh_user(w))),
    Operation("POST", "/api/v1/auths/add", "gateway", Schema(), _add),
    Operation("POST", "/api/v1/auths/api_key", "gateway", Schema(),
              lambda w: w.client.post("/api/v1/auths/api_key", headers=fresh_user(w))),
    Operation("GET", "/api/v1/auths/api_key", "gateway", Schema(), lambda w: _key(w, "GET")),
    Operation("DELETE", "/api/v1/auths/api_key", "gateway", Schema(),
              lambda w: _key(w, "DELETE")),
    Operation("POST", "/api/v1/auths/signout", "gateway", Shape({"status": True}, SOURCE),
              lambda w: w.client.post("/api/v1/auths/signout", headers=fresh_user(w))),
]
