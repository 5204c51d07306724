"""The note's chat panel (`/api/v1/notes/{id}/chat`, `/chats`), as Open WebUI 0.12 serves it:
hidden chats about a note, marked internal, reached by id as any chat is but in no chat list
(list, pinned, search, archived, archive all); they go with their note. Another user's note, a
note deleted, a malformed body: 404, 404, 400, and no chat made."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.chat.conftest import create, ok, sample_chat
from tests.chat.test_notes import make


def _listed(client: httpx.Client) -> set[str]:
    """Every chat id the chat lists show the caller."""
    ids = {c["id"] for c in ok(client.get("/api/v1/chats/", params={"include_pinned": True,
                                                                    "include_folders": True}))}
    ids |= {c["id"] for c in ok(client.get("/api/v1/chats/pinned"))}
    ids |= {c["id"] for c in ok(client.get("/api/v1/chats/search", params={"text": "Chat"}))}
    return ids | {c["id"] for c in ok(client.get("/api/v1/chats/archived"))}


def _every_chat(client: httpx.Client) -> set[str]:
    """Every chat id of the caller's, hidden ones too (the export: one chat a line)."""
    answer = client.get("/api/v1/chats/all")
    assert answer.status_code == 200, answer.text
    return {json.loads(line)["id"] for line in answer.text.splitlines() if line.strip()}


def _check_hidden(chat: dict[str, Any], note_id: str) -> None:
    assert chat["title"] == "Chat" and chat["archived"] is False and chat["folder_id"] is None
    assert {k: chat["meta"][k] for k in ("internal", "type", "note_id")} == {
        "internal": True, "type": "note", "note_id": note_id}
    assert f"Current note id: {note_id}" in chat["chat"]["params"]["system"]
    assert chat["chat"]["history"] == {"messages": {}, "currentId": None}


def test_a_notes_chats_are_hidden_from_every_list(fresh: httpx.Client) -> None:
    note = make(fresh, "Trip", "passport, tickets")
    base = f"/api/v1/notes/{note['id']}"
    first = ok(fresh.get(f"{base}/chat"))
    _check_hidden(first, note["id"])
    assert ok(fresh.get(f"{base}/chat"))["id"] == first["id"]  # the same one again
    second = ok(fresh.post(f"{base}/chat"))
    _check_hidden(second, note["id"])
    assert second["id"] != first["id"]
    assert [c["id"] for c in ok(fresh.get(f"{base}/chats"))] == [second["id"], first["id"]]
    assert ok(fresh.get(f"{base}/chat"))["id"] == second["id"]  # the last one
    # The app opens and writes such a chat by id, as any other (a second later: times are
    # in seconds, and the last changed comes first).
    time.sleep(1.1)
    ok(fresh.post(f"/api/v1/chats/{first['id']}", json={"chat": sample_chat("Chat")}))
    updated = ok(fresh.get(f"/api/v1/chats/{first['id']}"))
    assert updated["meta"]["note_id"] == note["id"] and len(updated["chat"]["messages"]) == 4
    chats = ok(fresh.get(f"{base}/chats"))
    assert [c["id"] for c in chats] == [first["id"], second["id"]]
    assert chats[0]["chat"]["history"]["currentId"] == "a2"
    # In no list, whatever is done to the lists.
    visible = create(fresh, sample_chat("Chat about the trip"))
    assert _listed(fresh) == {visible["id"]}
    ok(fresh.post("/api/v1/chats/archive/all"))
    assert ok(fresh.get("/api/v1/chats/archived/count")) == 1
    assert {c["id"] for c in ok(fresh.get("/api/v1/chats/all/archived"))} == {visible["id"]}
    assert ok(fresh.get(f"/api/v1/chats/{first['id']}"))["archived"] is False


def test_a_deleted_note_takes_its_chats(fresh: httpx.Client) -> None:
    note = make(fresh)
    base = f"/api/v1/notes/{note['id']}"
    chat = ok(fresh.post(f"{base}/chat"))
    assert ok(fresh.delete(f"{base}/delete")) is True
    for method, path in (("GET", f"{base}/chat"), ("POST", f"{base}/chat"),
                         ("GET", f"{base}/chats")):
        answer = fresh.request(method, path)
        assert answer.status_code == 404, (method, path, answer.text)
        assert "note" in answer.json()["detail"].lower()
    assert fresh.get(f"/api/v1/chats/{chat['id']}").status_code == 404


def test_another_users_note_is_404_and_makes_no_chat(alice: httpx.Client,
                                                     bob: httpx.Client) -> None:
    note = make(alice, "Alice's", "secret")
    base = f"/api/v1/notes/{note['id']}"
    before = _every_chat(bob)
    for method, path in (("GET", f"{base}/chat"), ("POST", f"{base}/chat"),
                         ("GET", f"{base}/chats")):
        answer = bob.request(method, path)
        assert answer.status_code == 404, (method, path, answer.text)
    assert _every_chat(bob) == before
    assert ok(alice.get(f"{base}/chats")) == []


def test_bad_input_makes_no_chat(fresh: httpx.Client) -> None:
    note = make(fresh)
    base = f"/api/v1/notes/{note['id']}"
    broken = fresh.post(f"{base}/chat", content=b'{"not": json',
                        headers={"Content-Type": "application/json"})
    assert broken.status_code == 400, broken.text
    assert fresh.get("/api/v1/notes/no-such-note/chats").status_code == 404
    assert fresh.post(f"/api/v1/notes/{'x' * 5000}/chat").status_code == 404
    assert ok(fresh.get(f"{base}/chats")) == [] and _every_chat(fresh) == set()
