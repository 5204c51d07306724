"""The note editor's `ydoc:*` events (chat/realtime/documents.py) against a real chat service:
join gets the stored content and an empty state; the first seed wins; edits are merged, passed to
the document's other socket and saved into the note; another user's note, or a document not
joined, gets nothing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from pycrdt import Doc, Text

from tests.conftest import bearer
from tests.realtime.conftest import Alone
from tests.realtime.sockets import Socket


def _note(alone: Alone, token: str, md: str) -> str:
    answer = httpx.post(f"{alone.chat.url}/api/v1/notes/create", headers=bearer(token),
                        json={"title": "Plans", "data": {"content": {"md": md}}}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def _stored(alone: Alone, token: str, note_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{alone.chat.url}/api/v1/notes/{note_id}", headers=bearer(token),
                       timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["content"]


def _edit(doc: Doc, text: str) -> bytes:
    """A Yjs update as the editor makes one (here: text appended to a shared Text)."""
    before = doc.get_state()
    if "t" not in doc:
        doc["t"] = Text()
    doc["t"] += text
    return doc.get_update(before)


class Listener(Socket):
    def __init__(self) -> None:
        super().__init__()
        self.heard: dict[str, list[dict[str, Any]]] = {}
        for event in ("ydoc:document:state", "ydoc:document:update", "ydoc:user:joined",
                      "ydoc:awareness:update"):
            self.client.on(event, lambda data, event=event: self._keep(event, data))

    def _keep(self, event: str, data: dict[str, Any]) -> None:
        self.heard.setdefault(event, []).append(data)

    async def next(self, event: str, count: int = 1) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while len(self.heard.get(event, [])) < count:
            assert time.monotonic() < deadline, f"no {event} in 10 s: {self.heard}"
            await asyncio.sleep(0.05)
        return self.heard[event][count - 1]


async def test_editing_a_note_through_the_socket(alone: Alone) -> None:
    token = alone.token(role="admin")  # notes need features.notes: an admin has every feature
    note_id = _note(alone, token, "first words")
    document = f"note:{note_id}"
    one, two = Listener(), Listener()
    await one.connect(alone.chat.url, token)
    await two.connect(alone.chat.url, token)
    try:
        await one.client.emit("ydoc:document:join", {"document_id": document, "user_name": "A"})
        state = await one.next("ydoc:document:state")
        assert state["state"] == [0, 0] and state["content"] == {"md": "first words"}
        seed = Doc()
        seeded = await one.call("ydoc:document:update", {
            "document_id": document, "update": list(_edit(seed, "first words")),
            "initialize": True})
        assert seeded is not None  # the seed was taken

        await two.client.emit("ydoc:document:join", {"document_id": f"note_{note_id}"})
        joined = await two.next("ydoc:document:state")
        assert joined["state"] != [0, 0]  # the merged document, the seed in it
        copy = Doc()
        copy.apply_update(bytes(joined["state"]))
        assert str(copy.get("t", type=Text)) == "first words"
        late_seed = await two.call("ydoc:document:update", {
            "document_id": document, "update": list(_edit(Doc(), "other seed")),
            "initialize": True})
        assert late_seed == joined["state"]  # first write won: the second takes the first's
        assert (await one.next("ydoc:user:joined"))["document_id"] == document

        content = {"md": "first words, more", "html": "<p>first words, more</p>", "json": ""}
        await one.client.emit("ydoc:document:update", {
            "document_id": document, "update": list(_edit(seed, ", more")),
            "data": {"content": content}})
        passed = await two.next("ydoc:document:update")
        copy.apply_update(bytes(passed["update"]))
        assert str(copy.get("t", type=Text)) == "first words, more"
        deadline = time.monotonic() + 10
        while _stored(alone, token, note_id) != content:
            assert time.monotonic() < deadline, "the edit was not saved in 10 s"
            await asyncio.sleep(0.2)

        await one.client.emit("ydoc:awareness:update", {"document_id": document,
                                                         "update": [1, 2, 3]})
        assert (await two.next("ydoc:awareness:update"))["update"] == [1, 2, 3]
    finally:
        await one.close()
        await two.close()


async def test_another_users_note_and_bad_updates_get_nothing(alone: Alone) -> None:
    owner, stranger = alone.token(role="admin"), alone.token(role="admin")
    note_id = _note(alone, owner, "private")
    document = f"note:{note_id}"
    other, mine = Listener(), Listener()
    await other.connect(alone.chat.url, stranger)
    await mine.connect(alone.chat.url, owner)
    try:
        await other.client.emit("ydoc:document:join", {"document_id": document})
        # Not joined: an update is refused and nothing is stored or passed on.
        refused = await other.call("ydoc:document:update", {
            "document_id": document, "update": [1, 2], "initialize": True,
            "data": {"content": {"md": "taken over"}}})
        assert refused is None
        await mine.client.emit("ydoc:document:join", {"document_id": document})
        await mine.next("ydoc:document:state")
        assert "ydoc:document:state" not in other.heard
        # Not a Yjs update: refused, the document unchanged.
        assert await mine.call("ydoc:document:update", {
            "document_id": document, "update": [255, 255, 255], "initialize": True}) is None
        for bad in (None, "x", {"document_id": 5}, {"document_id": "chat:1"}):
            await mine.client.emit("ydoc:document:join", bad)
        await asyncio.sleep(0.5)
        assert len(mine.heard["ydoc:document:state"]) == 1
        assert _stored(alone, owner, note_id) == {"md": "private"}
    finally:
        await other.close()
        await mine.close()
