"""Admin Panel > Settings > Pipelines (Open WebUI's `/api/v1/pipelines`). owui connects to no
Pipelines servers: the list is empty, and a call naming a server answers 404 saying so (as Open
WebUI does for a connection index that is not there), after checking the request."""

from __future__ import annotations

import httpx

from tests.support.conformance import Operation, Shape
from tests.webapp.world import World, get

NONE = "Open WebUI's answer for a Pipelines server index with no server: 404 with a detail"
DETAIL = {"detail": ""}


def _upload(world: World, name: str) -> httpx.Response:
    return world.client.post("/api/v1/pipelines/upload", headers=world.bearer(),
                             data={"urlIdx": "0"},
                             files={"file": (name, b"class Pipeline:\n    pass\n")})


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/pipelines/list", "agent",
              Shape({"data": []}, "Open WebUI's get_pipelines_list with no Pipelines server"),
              get("/api/v1/pipelines/list")),
    Operation("GET", "/api/v1/pipelines/", "agent", Shape(DETAIL, NONE),
              get("/api/v1/pipelines/", urlIdx="0"), status=404),
    Operation("POST", "/api/v1/pipelines/add", "agent", Shape(DETAIL, NONE),
              lambda w: w.client.post("/api/v1/pipelines/add", headers=w.bearer(), json={
                  "url": "https://example.com/p.py", "urlIdx": 0}), status=404),
    Operation("DELETE", "/api/v1/pipelines/delete", "agent", Shape(DETAIL, NONE),
              lambda w: w.client.request("DELETE", "/api/v1/pipelines/delete",
                                         headers=w.bearer(), json={"id": "p", "urlIdx": 0}),
              status=404),
    Operation("POST", "/api/v1/pipelines/upload", "agent", Shape(DETAIL, NONE),
              lambda w: _upload(w, "p.py"), status=404),
    Operation("POST", "/api/v1/pipelines/upload", "agent",
              Shape(DETAIL, "Open WebUI refuses a file that is not .py with 400"),
              lambda w: _upload(w, "p.txt"), label="not a .py file", status=400),
    Operation("GET", "/api/v1/pipelines/{pipeline_id}/valves", "agent", Shape(DETAIL, NONE),
              get("/api/v1/pipelines/p/valves", urlIdx="0"), status=404),
    Operation("GET", "/api/v1/pipelines/{pipeline_id}/valves/spec", "agent",
              Shape(DETAIL, NONE), get("/api/v1/pipelines/p/valves/spec", urlIdx="0"),
              status=404),
    Operation("POST", "/api/v1/pipelines/{pipeline_id}/valves/update", "agent",
              Shape(DETAIL, NONE),
              lambda w: w.client.post("/api/v1/pipelines/p/valves/update", headers=w.bearer(),
                                      params={"urlIdx": "0"}, json={"x": 1}), status=404),
]
