"""The Notes page and the sidebar's pinned notes (Open WebUI's `/api/v1/notes`), as the web app
calls them, checked against Open WebUI's document. Each call that needs a note makes one of its
own (the admin's)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.conformance import Operation, Schema, Shape
from tests.webapp.world import World, fresh_user, ok

DETAIL = {"detail": ""}
Action = Callable[[World, dict], httpx.Response]


def new_note(world: World, title: str = "Groceries") -> dict:
    return ok(world.client.post("/api/v1/notes/create", headers=world.bearer(), json={
        "title": title, "data": {"content": {"json": None, "html": "<p>milk</p>",
                                             "md": "milk"}}}))


def on_new(action: Action) -> Callable[[World], httpx.Response]:
    return lambda world: action(world, new_note(world))


def _post(path: str, body: object = None) -> Action:
    return lambda w, n: w.client.post(path.format(**n), headers=w.bearer(), json=body)


def _pinned(world: World) -> httpx.Response:
    note = new_note(world, "Pinned")
    ok(world.client.post(f"/api/v1/notes/{note['id']}/pin", headers=world.bearer()))
    return world.client.get("/api/v1/notes/pinned", headers=world.bearer())


def _listed(path: str, **params: str) -> Callable[[World], httpx.Response]:
    def call(world: World) -> httpx.Response:
        new_note(world, "Listed")
        return world.client.get(path, params=params, headers=world.bearer())
    return call


def _another_users(world: World, note: dict) -> httpx.Response:
    return world.client.get(f"/api/v1/notes/{note['id']}", headers=fresh_user(world))


def _chats(world: World, note: dict) -> httpx.Response:
    """The note's chat panel with a chat in it: the list of its hidden chats."""
    ok(_post("/api/v1/notes/{id}/chat")(world, note))
    return world.client.get(f"/api/v1/notes/{note['id']}/chats", headers=world.bearer())


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/notes/", "chat", Schema(), _listed("/api/v1/notes/", page="1"),
              label="with a note"),
    Operation("GET", "/api/v1/notes/pinned", "chat", Schema(), _pinned,
              label="with a pinned note"),
    Operation("GET", "/api/v1/notes/search", "chat", Schema(),
              _listed("/api/v1/notes/search", query="milk", page="1"), label="a word found"),
    Operation("POST", "/api/v1/notes/create", "chat", Schema(),
              lambda w: w.client.post("/api/v1/notes/create", headers=w.bearer(),
                                      json={"title": "New note", "data": None})),
    Operation("GET", "/api/v1/notes/{id}", "chat", Schema(),
              on_new(lambda w, n: w.client.get(f"/api/v1/notes/{n['id']}",
                                               headers=w.bearer()))),
    Operation("GET", "/api/v1/notes/{id}", "chat", Shape(DETAIL, "HTTPException detail"),
              on_new(_another_users), label="another user's", status=404),
    Operation("POST", "/api/v1/notes/{id}/update", "chat", Schema(),
              on_new(_post("/api/v1/notes/{id}/update", {
                  "title": "Shopping", "data": {"content": {"md": "milk, eggs"}}}))),
    Operation("POST", "/api/v1/notes/{id}/pin", "chat", Schema(),
              on_new(_post("/api/v1/notes/{id}/pin"))),
    Operation("POST", "/api/v1/notes/{id}/access/update", "chat", Schema(),
              on_new(_post("/api/v1/notes/{id}/access/update", {"access_grants": []})),
              label="private"),
    Operation("GET", "/api/v1/notes/{id}/chat", "chat", Schema(),
              on_new(lambda w, n: w.client.get(f"/api/v1/notes/{n['id']}/chat",
                                               headers=w.bearer())), label="a new hidden chat"),
    Operation("GET", "/api/v1/notes/{id}/chat", "chat", Shape(DETAIL, "HTTPException detail"),
              on_new(lambda w, n: w.client.get(f"/api/v1/notes/{n['id']}/chat",
                                               headers=fresh_user(w))),
              label="another user's", status=404),
    Operation("POST", "/api/v1/notes/{id}/chat", "chat", Schema(),
              on_new(_post("/api/v1/notes/{id}/chat"))),
    Operation("GET", "/api/v1/notes/{id}/chats", "chat", Schema(), on_new(_chats),
              label="with a chat"),
    Operation("DELETE", "/api/v1/notes/{id}/delete", "chat", Schema(),
              on_new(lambda w, n: w.client.delete(f"/api/v1/notes/{n['id']}/delete",
                                                  headers=w.bearer()))),
]
