"""Admin Panel > Settings > Interface, Models and Connections, and the configuration's export
and import (`/api/v1/configs/*` the gateway keeps), checked against Open WebUI's document.
What is posted is what was read (or adds to it), so the other areas see the settings unchanged,
and the health routes outside /api as Open WebUI answers them."""

from __future__ import annotations

import time

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import World, fresh_user, get, ok

SOURCE = "Open WebUI 0.12.4's configs router"
MAIN = "Open WebUI 0.12.4's main app"
BANNER = {"id": "welcome", "type": "info", "title": "Hello", "content": "Welcome to owui",
          "dismissible": True, "timestamp": 0}


def _post(path: str, body: object) -> object:
    return lambda w: w.client.post(path, headers=w.bearer(), json=body)


def _banners(world: World) -> object:
    return world.client.post("/api/v1/configs/banners", headers=world.bearer(), json={
        "banners": [{**BANNER, "timestamp": int(time.time())}]})


def _models_back(world: World) -> object:
    config = ok(world.get("/api/v1/configs/models"))
    return world.client.post("/api/v1/configs/models", headers=world.bearer(), json=config)


def _import_export(world: World) -> object:
    exported = ok(world.get("/api/v1/configs/export"))
    return world.client.post("/api/v1/configs/import", headers=world.bearer(),
                             json={"config": exported})


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/configs/banners", "gateway", Schema(),
              lambda w: (_banners(w), w.client.get("/api/v1/configs/banners",
                                                   headers=fresh_user(w)))[1],
              label="one banner"),
    Operation("POST", "/api/v1/configs/banners", "gateway", Schema(), _banners),
    Operation("POST", "/api/v1/configs/suggestions", "gateway", Schema(),
              _post("/api/v1/configs/suggestions", {"suggestions": [
                  {"title": ["Tell me", "a fun fact"], "content": "Tell me a fun fact."}]})),
    Operation("GET", "/api/v1/configs/models", "gateway", Schema(), get("/api/v1/configs/models")),
    Operation("POST", "/api/v1/configs/models", "gateway", Schema(), _models_back),
    Operation("GET", "/api/v1/configs/models/defaults", "gateway",
              Shape({"DEFAULT_MODEL_METADATA": {}}, SOURCE),
              lambda w: w.client.get("/api/v1/configs/models/defaults", headers=fresh_user(w))),
    Operation("POST", "/api/v1/configs/interface/visibility", "gateway", Schema(),
              _post("/api/v1/configs/interface/visibility", {"visibility": {"notes": True}})),
    Operation("GET", "/api/v1/configs/connections", "gateway", Schema(),
              get("/api/v1/configs/connections")),
    Operation("POST", "/api/v1/configs/connections", "gateway", Schema(),
              _post("/api/v1/configs/connections", {"ENABLE_DIRECT_CONNECTIONS": False,
                                                   "ENABLE_BASE_MODELS_CACHE": False})),
    Operation("GET", "/api/v1/configs/export", "gateway", Schema(), get("/api/v1/configs/export")),
    Operation("POST", "/api/v1/configs/import", "gateway", Schema(), _import_export,
              label="what export gave"),
    Operation("GET", "/api/v1/configs/namespace/{namespace}", "gateway", Schema(),
              get("/api/v1/configs/namespace/ui")),
    Operation("GET", "/api/v1/configs/tool_servers", "gateway", Schema(),
              get("/api/v1/configs/tool_servers")),
    Operation("POST", "/api/v1/configs/tool_servers", "gateway", Schema(),
              _post("/api/v1/configs/tool_servers", {"TOOL_SERVER_CONNECTIONS": []})),
    Operation("GET", "/api/v1/configs/terminal_servers", "gateway",
              Shape({"TERMINAL_SERVER_CONNECTIONS": []}, SOURCE),
              get("/api/v1/configs/terminal_servers")),
    Operation("POST", "/api/v1/configs/terminal_servers", "gateway",
              Shape({"TERMINAL_SERVER_CONNECTIONS": []}, SOURCE),
              _post("/api/v1/configs/terminal_servers", {"TERMINAL_SERVER_CONNECTIONS": []})),
    Operation("GET", "/api/v1/configs/subagents", "gateway", Schema(),
              get("/api/v1/configs/subagents")),
    Operation("POST", "/api/v1/configs/subagents", "gateway", Schema(),
              lambda w: w.client.post("/api/v1/configs/subagents", headers=w.bearer(),
                                      json=ok(w.get("/api/v1/configs/subagents")))),
    Operation("GET", "/api/version/updates", "gateway",
              Shape({"current": "", "latest": ""}, MAIN), get("/api/version/updates")),
    Operation("GET", "/health", "gateway", Shape({"status": True}, MAIN),
              lambda w: w.client.get("/health")),
    Operation("GET", "/health/db", "gateway", Shape({"status": True}, MAIN),
              lambda w: w.client.get("/health/db")),
    Operation("GET", "/ready", "gateway", Shape({"status": True}, MAIN),
              lambda w: w.client.get("/ready")),
]
