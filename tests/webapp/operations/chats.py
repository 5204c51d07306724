"""The chat list, the chat page's menus and the message toolbar (Open WebUI's `/api/v1/chats`,
`/api/chat/completed`, `/api/tasks`), as the web app calls them, checked against Open WebUI's
document. Each call that changes something makes a chat of its own (the admin's), and the calls
that change every chat of a user (archive all, delete all, ...) are a fresh user's, so that the
prepared world's chats stay as the other operations need them."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import MODEL, World, fresh_user, ok

DETAIL = {"detail": ""}
PROTOCOL = "Open WebUI 0.12.4's routers/chats.py answer, read from its protocol"
Action = Callable[[World, dict], httpx.Response]


def new_chat(world: World, title: str = "Trip plan", headers: dict | None = None) -> dict:
    """A chat with a question and an answer (and a tag), as the app stores one."""
    chat = {"title": title, "models": [MODEL], "params": {}, "history": {
        "currentId": "a1", "messages": {
            "u1": {"id": "u1", "parentId": None, "childrenIds": ["a1"], "role": "user",
                   "content": "Where to?", "timestamp": 1_700_000_000, "models": [MODEL]},
            "a1": {"id": "a1", "parentId": "u1", "childrenIds": [], "role": "assistant",
                   "content": "Lisbon.", "model": MODEL, "timestamp": 1_700_000_002,
                   "done": True}}}}
    made = ok(world.client.post("/api/v1/chats/new", headers=headers or world.bearer(),
                                json={"chat": chat}))
    ok(world.client.post(f"/api/v1/chats/{made['id']}/tags", headers=headers or world.bearer(),
                         json={"name": "travel"}))
    return made


def on_new(action: Action) -> Callable[[World], httpx.Response]:
    return lambda world: action(world, new_chat(world))


def _call(method: str, path: str, body: object = None, **params: object) -> Action:
    return lambda w, c: w.client.request(method, path.format(**c), headers=w.bearer(),
                                         json=body, params=params or None)


def _fresh(method: str, path: str) -> Callable[[World], httpx.Response]:
    """A fresh user's call, after making one chat of their own."""
    def call(world: World) -> httpx.Response:
        headers = fresh_user(world)
        new_chat(world, "Theirs", headers)
        return world.client.request(method, path, headers=headers)
    return call


def _another_users(method: str, path: str, body: object = None) -> Action:
    return lambda w, c: w.client.request(method, path.format(**c), headers=fresh_user(w),
                                         json=body)


def _archived(world: World, chat: dict) -> httpx.Response:
    ok(world.client.post(f"/api/v1/chats/{chat['id']}/archive", headers=world.bearer()))
    return world.get("/api/v1/chats/archived", page="1")


def _all_archived(world: World, chat: dict) -> httpx.Response:
    ok(world.client.post(f"/api/v1/chats/{chat['id']}/archive", headers=world.bearer()))
    return world.get("/api/v1/chats/all/archived")


def _shared(action: Action) -> Callable[[World], httpx.Response]:
    """On a chat with a share link (the chat's `share_id` in the action's dict)."""
    def call(world: World) -> httpx.Response:
        chat = new_chat(world, "Shared plan")
        shared = ok(world.client.post(f"/api/v1/chats/{chat['id']}/share",
                                      headers=world.bearer()))
        return action(world, {**chat, "share_id": shared["share_id"]})
    return call


def _in_folder(action: Action) -> Callable[[World], httpx.Response]:
    def call(world: World) -> httpx.Response:
        folder = ok(world.client.post("/api/v1/folders/", headers=world.bearer(),
                                      json={"name": f"Trips {id(action)}"}))
        chat = new_chat(world, "Filed")
        ok(world.client.post(f"/api/v1/chats/{chat['id']}/folder", headers=world.bearer(),
                             json={"folder_id": folder["id"]}))
        return action(world, {**chat, "folder_id": folder["id"]})
    return call


def _import(world: World) -> httpx.Response:
    chat = new_chat(world, "Exported")
    return world.client.post("/api/v1/chats/import", headers=world.bearer(), json={"chats": [{
        "chat": chat["chat"], "meta": {}, "pinned": False, "folder_id": None}]})


def _waiting(action: Action) -> Callable[[World], httpx.Response]:
    """On a chat whose answer waits for the user to approve a tool call (`call-1`)."""
    def call(world: World) -> httpx.Response:
        chat = {"title": "Needs approval", "models": [MODEL], "history": {
            "currentId": "a1", "messages": {
                "u1": {"id": "u1", "parentId": None, "childrenIds": ["a1"], "role": "user",
                       "content": "Search it", "timestamp": 1_700_000_000},
                "a1": {"id": "a1", "parentId": "u1", "childrenIds": [], "role": "assistant",
                       "content": "", "model": MODEL, "done": False, "output": [
                           {"type": "function_call", "id": "call-1", "call_id": "call-1",
                            "name": "search_web", "arguments": "{}", "status": "pending"}]}}}}
        made = ok(world.client.post("/api/v1/chats/new", headers=world.bearer(),
                                    json={"chat": chat}))
        return action(world, made)
    return call


# owui's answers where Open WebUI's route is not in the reference (the app hands it on as it is)
COMPACT = "Open WebUI 0.12.4's compact_chat_by_id answer (ok, compacted, reason, context_usage)"
RESOLVED = "Open WebUI 0.12.4's tool_approval result as owui answers it (status, paused, output)"
CHAT_CONFIG = {"CONTEXT_COMPACTION_MODEL": "", "ENABLE_CONTEXT_COMPACTION": False,
               "CONTEXT_COMPACTION_PROMPT_TEMPLATE": "", "ENABLE_TOOL_SEARCH": False}
COMPLETED = {"model": MODEL, "chat_id": "", "id": "a1", "session_id": "s",
             "messages": [{"id": "u1", "role": "user", "content": "Where to?"}]}

OPERATIONS: list[Operation] = [
    # ---- lists ----
    Operation("GET", "/api/v1/chats/list", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/chats/list", page=1))),
    # GET /api/v1/chats/all streams JSON lines (application/x-ndjson), in Open WebUI as here:
    # tests/chat/test_transfer.py reads it; the JSON comparison cannot.
    Operation("GET", "/api/v1/chats/all/db", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/chats/all/db"))),
    Operation("GET", "/api/v1/chats/all/archived", "chat", Schema(), on_new(_all_archived)),
    Operation("GET", "/api/v1/chats/archived", "chat", Schema(), on_new(_archived)),
    Operation("GET", "/api/v1/chats/archived/count", "chat", Schema(),
              on_new(_call("GET", "/api/v1/chats/archived/count"))),
    Operation("GET", "/api/v1/chats/search", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/chats/search", text="Lisbon", page=1))),
    Operation("GET", "/api/v1/search", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/search", q="Lisbon"))),
    Operation("POST", "/api/v1/chats/tags", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/tags", {"name": "travel"}))),
    Operation("GET", "/api/v1/chats/list/user/{user_id}", "chat", Schema(),
              on_new(lambda w, c: w.get(f"/api/v1/chats/list/user/{w.user_id}", page="1"))),
    Operation("GET", "/api/v1/chats/folder/{folder_id}", "chat", Schema(),
              _in_folder(_call("GET", "/api/v1/chats/folder/{folder_id}"))),
    Operation("GET", "/api/v1/chats/folder/{folder_id}/list", "chat", Schema(),
              _in_folder(_call("GET", "/api/v1/chats/folder/{folder_id}/list", page=1))),
    Operation("GET", "/api/v1/chats/shared", "chat", Schema(), _shared(_call(
        "GET", "/api/v1/chats/shared", page=1))),
    Operation("GET", "/api/v1/chats/stats/usage", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/chats/stats/usage"))),
    Operation("GET", "/api/v1/chats/stats/export", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/chats/stats/export"))),
    Operation("GET", "/api/v1/chats/stats/export/{chat_id}", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/chats/stats/export/{id}"))),
    # ---- every chat of a user (a fresh user's) ----
    Operation("POST", "/api/v1/chats/archive/all", "chat", Schema(),
              _fresh("POST", "/api/v1/chats/archive/all")),
    Operation("POST", "/api/v1/chats/unarchive/all", "chat", Schema(),
              _fresh("POST", "/api/v1/chats/unarchive/all")),
    Operation("DELETE", "/api/v1/chats/share/all", "chat", Schema(),
              _fresh("DELETE", "/api/v1/chats/share/all")),
    Operation("POST", "/api/v1/chats/read", "chat", Shape(
        {"updated_count": 0, "folder_unread_counts": {}}, PROTOCOL),
        _fresh("POST", "/api/v1/chats/read")),
    Operation("DELETE", "/api/v1/chats/", "chat", Schema(), _fresh("DELETE", "/api/v1/chats/")),
    # ---- one chat ----
    Operation("POST", "/api/v1/chats/new", "chat", Schema(),
              lambda w: w.client.post("/api/v1/chats/new", headers=w.bearer(),
                                      json={"chat": {"title": "Blank", "models": [MODEL]}})),
    Operation("POST", "/api/v1/chats/import", "chat", Schema(), _import),
    Operation("POST", "/api/v1/chats/{id}", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/{id}", {"chat": {"title": "Renamed"}}))),
    Operation("DELETE", "/api/v1/chats/{id}", "chat", Schema(), on_new(_call(
        "DELETE", "/api/v1/chats/{id}"))),
    Operation("GET", "/api/v1/chats/{id}", "chat", Shape(DETAIL, "HTTPException detail"),
              on_new(_another_users("GET", "/api/v1/chats/{id}")), label="another user's",
              status=404),
    Operation("GET", "/api/v1/chats/{id}/pinned", "chat", Schema(), on_new(_call(
        "GET", "/api/v1/chats/{id}/pinned"))),
    Operation("POST", "/api/v1/chats/{id}/pin", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/{id}/pin"))),
    Operation("POST", "/api/v1/chats/{id}/archive", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/{id}/archive"))),
    Operation("POST", "/api/v1/chats/{id}/clone", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/{id}/clone", {"title": "Copy"}))),
    Operation("POST", "/api/v1/chats/{id}/fork", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/{id}/fork", {"message_id": "a1"}))),
    Operation("POST", "/api/v1/chats/{id}/fork", "chat", Shape(DETAIL, "HTTPException detail"),
              on_new(_call("POST", "/api/v1/chats/{id}/fork", {"message_id": "nope"})),
              label="a message not in the chat", status=404),
    Operation("POST", "/api/v1/chats/{id}/fork", "chat", Shape(DETAIL, "HTTPException detail"),
              on_new(_another_users("POST", "/api/v1/chats/{id}/fork")),
              label="another user's", status=404),
    Operation("PATCH", "/api/v1/chats/{id}/params", "chat", Schema(), on_new(_call(
        "PATCH", "/api/v1/chats/{id}/params", {"system": "Be brief.", "temperature": 0.2}))),
    Operation("PATCH", "/api/v1/chats/{id}/params", "chat",
              Shape(DETAIL, "HTTPException detail"),
              on_new(_another_users("PATCH", "/api/v1/chats/{id}/params", {"system": "x"})),
              label="another user's", status=404),
    Operation("POST", "/api/v1/chats/{id}/unread", "chat", Shape(
        {"chat_id": "", "last_read_at": 0, "folder_id": None, "folder_unread_counts": {}},
        PROTOCOL), on_new(_call("POST", "/api/v1/chats/{id}/unread"))),
    Operation("POST", "/api/v1/chats/{id}/compact", "chat", Shape(
        {"ok": True, "compacted": False, "reason": "", "context_usage": None}, COMPACT),
        on_new(_call("POST", "/api/v1/chats/{id}/compact", {"model": None}))),
    Operation("POST", "/api/v1/chats/{id}/compact", "chat", Shape(DETAIL, "HTTPException detail"),
              on_new(_another_users("POST", "/api/v1/chats/{id}/compact")),
              label="another user's", status=404),
    Operation("POST", "/api/v1/chats/{id}/messages/{message_id}/resolve", "chat", Shape(
        {"status": True, "paused": False, "output": [{"type": "", "call_id": "", "status": ""}]},
        RESOLVED), _waiting(_call("POST", "/api/v1/chats/{id}/messages/a1/resolve",
                                  {"call_id": "call-1", "action": "approve"}))),
    Operation("POST", "/api/v1/chats/{id}/messages/{message_id}/resolve", "chat",
              Shape(DETAIL, "HTTPException detail"),
              _waiting(_another_users("POST", "/api/v1/chats/{id}/messages/a1/resolve",
                                      {"call_id": "call-1", "action": "approve"})),
              label="another user's", status=404),
    Operation("POST", "/api/v1/chats/{id}/folder", "chat", Schema(),
              _in_folder(_call("POST", "/api/v1/chats/{id}/folder", {"folder_id": None}))),
    Operation("POST", "/api/v1/chats/{id}/tags", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/{id}/tags", {"name": "lisbon"}))),
    Operation("DELETE", "/api/v1/chats/{id}/tags", "chat", Schema(), on_new(_call(
        "DELETE", "/api/v1/chats/{id}/tags", {"name": "travel"}))),
    Operation("POST", "/api/v1/chats/{id}/messages/{message_id}", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/{id}/messages/a1", {"content": "Porto."}))),
    Operation("DELETE", "/api/v1/chats/{id}/messages/{message_id}", "chat", Schema(),
              on_new(_call("DELETE", "/api/v1/chats/{id}/messages/a1"))),
    Operation("POST", "/api/v1/chats/{id}/messages/{message_id}/event", "chat", Schema(),
              on_new(_call("POST", "/api/v1/chats/{id}/messages/a1/event",
                           {"type": "status", "data": {"description": "Done"}}))),
    # ---- share links ----
    Operation("POST", "/api/v1/chats/{id}/share", "chat", Schema(), on_new(_call(
        "POST", "/api/v1/chats/{id}/share"))),
    Operation("DELETE", "/api/v1/chats/{id}/share", "chat", Schema(), _shared(_call(
        "DELETE", "/api/v1/chats/{id}/share"))),
    Operation("GET", "/api/v1/chats/share/{share_id}", "chat", Schema(), _shared(_call(
        "GET", "/api/v1/chats/share/{share_id}"))),
    Operation("POST", "/api/v1/chats/{id}/clone/shared", "chat", Schema(), _shared(
        lambda w, c: w.client.post(f"/api/v1/chats/{c['share_id']}/clone/shared",
                                   headers=fresh_user(w)))),
    Operation("GET", "/api/v1/chats/shared/{id}/access", "chat", Shape(
        [{"id": "", "principal_type": "", "principal_id": "", "permission": ""}], PROTOCOL),
        _shared(_call("GET", "/api/v1/chats/shared/{id}/access"))),
    Operation("POST", "/api/v1/chats/shared/{id}/access/update", "chat", Schema(), _shared(_call(
        "POST", "/api/v1/chats/shared/{id}/access/update", {"access_grants": [
            {"principal_type": "user", "principal_id": "*", "permission": "read"}]}))),
    # ---- settings and the turn's companions ----
    Operation("GET", "/api/v1/chats/config", "chat", Schema(), lambda w: w.get(
        "/api/v1/chats/config")),
    Operation("POST", "/api/v1/chats/config", "chat", Schema(), lambda w: w.client.post(
        "/api/v1/chats/config", headers=w.bearer(), json=CHAT_CONFIG)),
    Operation("GET", "/api/tasks", "chat", Shape({"tasks": []}, "Open WebUI's main.py: "
              "{tasks: [...]}, admins only"), lambda w: w.get("/api/tasks")),
    Operation("POST", "/api/chat/completed", "chat", Shape(
        {"model": "", "messages": [{"id": "", "role": "", "content": ""}]},
        "Open WebUI's main.py: the body after its outlet filters"),
        on_new(lambda w, c: w.client.post("/api/chat/completed", headers=w.bearer(),
                                          json={**COMPLETED, "chat_id": c["id"]}))),
]
