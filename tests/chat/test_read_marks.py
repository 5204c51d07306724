"""The read marks' and tool decisions' writes on both stores (SQLite and PostgreSQL: the chat
suite's two backends): an answer that ended unseen makes the chat unread in the list, seen it
stays read, a mark set by hand stays; the socket's `last_read_at` reads it again; a tool call's
decision is stored. The realtime suite runs the same through whole turns (SQLite only)."""

from __future__ import annotations

from typing import Any

import httpx
import socketio
from sqlalchemy.ext.asyncio import create_async_engine

from owui.chat.rawdb import RawPool
from owui.chat.realtime import read_marks
from tests.chat.conftest import Backend, create, ok
from tests.support.postgres import run_async


def _url(backend: Backend) -> str:
    if backend.name == "sqlite":
        return f"sqlite+aiosqlite:///{backend.database}"
    return backend.database.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _ended(url: str, chat_id: str, user_id: str, seen: bool) -> None:
    """What a web-app turn's relay writes as its answer ends (turns/webapp_events.py)."""
    engine = create_async_engine(url)
    pool = RawPool(engine)
    await pool.start()
    try:
        async with pool.acquire() as conn:
            await conn.write(lambda w: read_marks.answer_ended(w, chat_id, user_id, seen))
    finally:
        await pool.stop()
        await engine.dispose()


def _listed(client: httpx.Client, chat_id: str) -> dict[str, Any]:
    return next(c for c in ok(client.get("/api/v1/chats/", params={"page": 1}))
                if c["id"] == chat_id)


def _unread(entry: dict[str, Any]) -> bool:
    return entry["last_read_at"] is not None and entry["last_read_at"] < entry["updated_at"]


async def _read_event(base: str, token: str, chat_id: str) -> Any:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(base, headers={"Authorization": f"Bearer {token}"},
                         auth={"token": token}, transports=["websocket"],
                         socketio_path="ws/socket.io", wait_timeout=10)
    try:
        return await client.call("events:chat", {"chat_id": chat_id,
                                                 "data": {"type": "last_read_at"}}, timeout=10)
    finally:
        await client.disconnect()


def test_unread_after_an_unseen_answer_and_read_again(backend: Backend,
                                                      alice: httpx.Client) -> None:
    chat = create(alice)
    run_async(_ended(_url(backend), chat["id"], backend.alice.id, False))
    entry = _listed(alice, chat["id"])
    assert _unread(entry) and entry["updated_at"] >= chat["updated_at"]
    # Bob's socket cannot read Alice's chat; hers can.
    assert run_async(_read_event(backend.gateway.url, backend.bob.token, chat["id"])) is False
    assert _unread(_listed(alice, chat["id"]))
    assert run_async(_read_event(backend.gateway.url, backend.alice.token, chat["id"])) is True
    assert not _unread(_listed(alice, chat["id"]))
    # Seen as it ended: read.
    run_async(_ended(_url(backend), chat["id"], backend.alice.id, True))
    assert not _unread(_listed(alice, chat["id"]))
    # Marked unread by hand: an answer, seen or not, leaves that mark.
    ok(alice.post(f"/api/v1/chats/{chat['id']}/unread"))
    run_async(_ended(_url(backend), chat["id"], backend.alice.id, False))
    assert _listed(alice, chat["id"])["last_read_at"] == 0
    # Another user's answer-end writes nothing to her chat.
    before = _listed(alice, chat["id"])
    run_async(_ended(_url(backend), chat["id"], backend.bob.id, False))
    assert _listed(alice, chat["id"]) == before


def test_a_tool_decision_is_stored(backend: Backend, alice: httpx.Client) -> None:
    call = {"type": "function_call", "id": "c1", "call_id": "c1", "name": "search_web",
            "arguments": "{}", "status": "pending"}
    chat = ok(alice.post("/api/v1/chats/new", json={"chat": {"title": "Waits", "history": {
        "currentId": "a1", "messages": {
            "u1": {"id": "u1", "parentId": None, "childrenIds": ["a1"], "role": "user",
                   "content": "go"},
            "a1": {"id": "a1", "parentId": "u1", "childrenIds": [], "role": "assistant",
                   "content": "", "done": False, "output": [call]}}}}}))
    answer = ok(alice.post(f"/api/v1/chats/{chat['id']}/messages/a1/resolve",
                           json={"call_id": "c1", "action": "reject"}))
    assert answer["paused"] is False
    stored = ok(alice.get(f"/api/v1/chats/{chat['id']}"))["chat"]["history"]["messages"]["a1"]
    assert stored["done"] is True and stored["output"][0]["status"] == "rejected"
    assert stored["output"][1]["call_id"] == "c1"
    again = alice.post(f"/api/v1/chats/{chat['id']}/messages/a1/resolve",
                       json={"call_id": "c1", "action": "approve"})
    assert again.status_code == 409, again.text

