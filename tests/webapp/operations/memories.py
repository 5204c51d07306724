"""Settings > Personalization > Memory, the turn's memory query and Open WebUI's memory tools
(`/api/v1/memories`), as the web app calls them, checked against Open WebUI's document. Each
call works as a new account of its own with one memory (the vectors are the retrieval
service's, embedded by the stand-in provider)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import World, fresh_user, ok

SOURCE = "Open WebUI 0.12.4's memories router"
QUERY = {"ids": [[""]], "documents": [[""]], "metadatas": [[{"type": "", "created_at": 0}]],
         "distances": [[0.5]]}
GROUP = {"path": "", "type": "", "count": 0, "updated_at": 0, "children": []}
MEMORY = {"id": "", "user_id": "", "type": "", "path": "", "content": "", "updated_at": 0,
          "created_at": 0}
Action = Callable[[httpx.Client, dict[str, str], dict], httpx.Response]
TEXT = "Drinks jasmine tea every morning"


def with_memory(action: Action) -> Callable[[World], httpx.Response]:
    """The action, as a new account that has one memory (`work/tea`) and one below it."""
    def call(world: World) -> httpx.Response:
        headers = fresh_user(world)
        memory = ok(world.client.post("/api/v1/memories/add", headers=headers,
                                      json={"content": TEXT, "path": "work/tea"}))
        ok(world.client.post("/api/v1/memories/add", headers=headers,
                             json={"content": "Green on Fridays", "path": "work/tea/friday"}))
        return action(world.client, headers, memory)
    return call


def _post(path: str, body: object = None) -> Action:
    return lambda c, h, m: c.post(path.format(**m), headers=h, json=body)


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/memories/", "chat", Schema(),
              with_memory(lambda c, h, m: c.get("/api/v1/memories/", headers=h))),
    Operation("POST", "/api/v1/memories/add", "chat", Schema(),
              with_memory(_post("/api/v1/memories/add", {"content": "Has a cat",
                                                         "type": "user"}))),
    Operation("POST", "/api/v1/memories/{memory_id}/update", "chat", Schema(),
              with_memory(_post("/api/v1/memories/{id}/update",
                                {"content": "Drinks green tea"}))),
    Operation("DELETE", "/api/v1/memories/{memory_id}", "chat", Schema(),
              with_memory(lambda c, h, m: c.delete(f"/api/v1/memories/{m['id']}", headers=h))),
    Operation("DELETE", "/api/v1/memories/delete/user", "chat", Schema(),
              with_memory(lambda c, h, m: c.delete("/api/v1/memories/delete/user",
                                                   headers=h))),
    Operation("POST", "/api/v1/memories/query", "chat", Shape(QUERY, SOURCE),
              with_memory(_post("/api/v1/memories/query", {"content": TEXT, "k": 1}))),
    Operation("POST", "/api/v1/memories/reset", "chat", Schema(),
              with_memory(_post("/api/v1/memories/reset"))),
    Operation("POST", "/api/v1/memories/reindex", "chat",
              Shape({"status": True, "total_users": 0, "total_memories": 0}, SOURCE),
              with_memory(_post("/api/v1/memories/reindex"))),
    Operation("POST", "/api/v1/memories/update", "chat", Schema(),
              with_memory(_post("/api/v1/memories/update", {"operations": [
                  {"action": "add", "content": "Works remotely", "path": "work"}]}))),
    Operation("POST", "/api/v1/memories/search", "chat", Schema(),
              with_memory(_post("/api/v1/memories/search", {"query": "tea"}))),
    Operation("POST", "/api/v1/memories/paths", "chat",
              Shape({"paths": [GROUP], "count": 0}, SOURCE),
              with_memory(_post("/api/v1/memories/paths", {}))),
    Operation("POST", "/api/v1/memories/path", "chat",
              Shape({"path": "", "parents": [], "children": [""], "memories": [MEMORY]},
                    SOURCE),
              with_memory(_post("/api/v1/memories/path", {"path": "work/tea"}))),
]
