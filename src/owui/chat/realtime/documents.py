"""`ydoc:*`: the web app's note editor, which sends a note's text only over the socket.

The editor keeps the note as a Yjs document. It joins `note:<id>` (`ydoc:document:join`) and is
sent the document's state and the stored content (`ydoc:document:state`); an empty state ([0, 0])
tells it to seed the document from that content, which it sends back with `initialize` (the
acknowledgement answers the state that won: first write wins). Every edit is a Yjs update
(`ydoc:document:update`) carrying the note's content as Markdown, HTML and JSON; the update is
merged here (pycrdt, the Rust Yrs bindings), passed to the document's other sockets, and the
content is saved into the note half a second after the last edit. Awareness (cursors) is passed
on as it comes.

A document lives in the memory of the replica its sockets joined while any of them is there;
the saved note is what a later join starts from. Editing a note from two replicas at once is not
merged (Open WebUI's real-time co-editing is out of scope: README). Notes are their owner's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import socketio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.chat.crud import notes as rows
from owui.chat.errors import TooLarge
from owui.chat.workspace import MAX_NOTE_BYTES, check_bytes
from owui.core.errors import NotFoundError

log = logging.getLogger("owui.chat.realtime.documents")
SAVE_DELAY = 0.5  # seconds after the last edit
MAX_DOCUMENT_BYTES = MAX_NOTE_BYTES  # a document's merged state; past it, updates are refused
MAX_DOCUMENTS_PER_SOCKET = 20


def room_of(document_id: str) -> str:
    return f"doc_{document_id}"


def note_of(document_id: object) -> tuple[str, str] | None:
    """(`note:<id>`, the note's id) of a document id, Open WebUI's `note_<id>` form included."""
    if not isinstance(document_id, str):
        return None
    if document_id.startswith("note_"):
        document_id = "note:" + document_id[5:]
    prefix, _, note_id = document_id.partition(":")
    return (document_id, note_id) if prefix == "note" and 0 < len(note_id) <= 128 else None


@dataclass
class Document:
    owner: str  # the note's owner: the only user who joins it
    sockets: set[str] = field(default_factory=set)
    doc: Any = None  # a pycrdt.Doc, made at the first update
    pending: dict[str, Any] | None = None  # content not saved yet
    due: float = 0.0  # when to save it (the loop's clock)
    saving: asyncio.Task[None] | None = None

    def state(self) -> bytes:
        return self.doc.get_update() if self.doc is not None else b"\x00\x00"

    def merge(self, update: bytes) -> bool:
        """Apply an update; False (nothing changed) when it is not a Yjs update or the merged
        state would pass the limit."""
        from pycrdt import Doc

        candidate = Doc()
        try:
            if self.doc is not None:
                candidate.apply_update(self.doc.get_update())
            candidate.apply_update(update)
        except ValueError:
            return False
        if len(candidate.get_update()) > MAX_DOCUMENT_BYTES:
            return False
        self.doc = candidate
        return True


class NoteDocuments:
    def __init__(self, sio: socketio.AsyncServer,
                 sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sio = sio
        self.sessions = sessions
        self.documents: dict[str, Document] = {}
        for event, handler in (("ydoc:document:join", self.join),
                               ("ydoc:document:state", self.send_state),
                               ("ydoc:document:update", self.update),
                               ("ydoc:document:leave", self.leave),
                               ("ydoc:awareness:update", self.awareness)):
            sio.on(event, handler)

    async def _user(self, sid: str) -> str | None:
        with contextlib.suppress(KeyError):
            return (await self.sio.get_session(sid)).get("user_id")
        return None

    async def _content(self, user_id: str, note_id: str) -> tuple[bool, Any]:
        """Whether the user's note exists, and its stored content."""
        async with self.sessions() as session:
            try:
                note = await rows.require(session, note_id, user_id)
            except NotFoundError:
                return False, None
            return True, (note.data or {}).get("content")

    async def join(self, sid: str, data: object = None, *_rest: object) -> None:
        user_id = await self._user(sid)
        ids = note_of(data.get("document_id")) if isinstance(data, dict) else None
        if user_id is None or ids is None:
            return
        document_id, note_id = ids
        found, content = await self._content(user_id, note_id)
        joined = sum(sid in d.sockets for d in self.documents.values())
        if not found or joined >= MAX_DOCUMENTS_PER_SOCKET:
            return
        document = self.documents.setdefault(document_id, Document(user_id))
        document.sockets.add(sid)
        await self.sio.enter_room(sid, room_of(document_id))
        await self.sio.emit("ydoc:document:state", {
            "document_id": document_id, "state": list(document.state()), "content": content},
            to=sid)
        await self.sio.emit("ydoc:user:joined", {
            "document_id": document_id, "user_id": user_id,
            "user_name": data.get("user_name", ""), "user_color": data.get("user_color", "")},
            room=room_of(document_id), skip_sid=sid)

    def _joined(self, sid: str, data: object) -> tuple[str, Document] | None:
        ids = note_of(data.get("document_id")) if isinstance(data, dict) else None
        document = self.documents.get(ids[0]) if ids else None
        return (ids[0], document) if ids and document and sid in document.sockets else None

    async def send_state(self, sid: str, data: object = None, *_rest: object) -> None:
        if (joined := self._joined(sid, data)) is not None:
            document_id, document = joined
            await self.sio.emit("ydoc:document:state", {
                "document_id": document_id, "state": list(document.state()),
                "sessions": sorted(document.sockets)}, to=sid)

    async def update(self, sid: str, data: object = None, *_rest: object) -> list[int] | None:
        joined = self._joined(sid, data)
        if joined is None or not isinstance(data, dict):
            return None
        document_id, document = joined
        if data.get("initialize") and document.doc is not None:
            return list(document.state())  # the first seed won: the editor takes it
        update = _bytes(data.get("update"))
        stored = update is not None and document.merge(update)
        if stored:
            await self.sio.emit("ydoc:document:update", {
                "document_id": document_id, "user_id": document.owner, "update": list(update),
                "socket_id": sid}, room=room_of(document_id), skip_sid=sid)
        snapshot = data.get("data")
        if isinstance(snapshot, dict) and isinstance(snapshot.get("content"), dict):
            self._save_soon(document, document_id, snapshot["content"])
        if data.get("initialize"):
            return list(update) if stored and update is not None else None
        return None

    def _save_soon(self, document: Document, document_id: str, content: dict[str, Any]) -> None:
        """The content is saved SAVE_DELAY after the last edit, by one saver per document (a
        save under way is never cut short; edits made meanwhile are saved next)."""
        document.pending = content
        document.due = asyncio.get_running_loop().time() + SAVE_DELAY
        if document.saving is None or document.saving.done():
            document.saving = asyncio.create_task(self._saver(document, document_id))

    async def _saver(self, document: Document, document_id: str) -> None:
        loop = asyncio.get_running_loop()
        while document.pending is not None:
            wait = document.due - loop.time()
            if wait > 0:  # edits keep coming: the save moves on
                await asyncio.sleep(wait)
                continue
            content, document.pending = document.pending, None
            try:
                await self._save(document.owner, document_id.partition(":")[2], content)
            except Exception:  # the editor goes on; the next edit saves the whole content
                log.exception("saving note %s failed", document_id)

    async def _save(self, user_id: str, note_id: str, content: dict[str, Any]) -> None:
        async with self.sessions() as session:
            try:
                note = await rows.require(session, note_id, user_id)
            except NotFoundError:  # deleted while open
                return
            rows.update(note, {"data": {"content": content}})
            try:
                check_bytes("The note", {"title": note.title, "data": note.data,
                                         "meta": note.meta}, MAX_NOTE_BYTES)
            except TooLarge:
                log.warning("note %s not saved: past %d bytes", note_id, MAX_NOTE_BYTES)
                return
            await session.commit()

    async def stop(self) -> None:
        """Edits not saved yet are saved now (the service is stopping)."""
        for document in list(self.documents.values()):
            if document.saving is not None and not document.saving.done():
                document.due = 0.0
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(document.saving), 5)

    async def leave(self, sid: str, data: object = None, *_rest: object) -> None:
        if (joined := self._joined(sid, data)) is not None:
            document_id, document = joined
            await self.sio.leave_room(sid, room_of(document_id))
            await self.sio.emit("ydoc:user:left", {
                "document_id": document_id, "user_id": document.owner},
                room=room_of(document_id))
            self._drop(sid, document_id, document)

    async def awareness(self, sid: str, data: object = None, *_rest: object) -> None:
        joined = self._joined(sid, data)
        if joined is not None and isinstance(data, dict) and isinstance(data.get("update"), list):
            document_id, document = joined
            await self.sio.emit("ydoc:awareness:update", {
                "document_id": document_id, "user_id": document.owner,
                "update": data["update"]}, room=room_of(document_id), skip_sid=sid)

    def forget(self, sid: str) -> None:
        """A socket gone: out of every document it had joined."""
        for document_id, document in list(self.documents.items()):
            if sid in document.sockets:
                self._drop(sid, document_id, document)

    def _drop(self, sid: str, document_id: str, document: Document) -> None:
        document.sockets.discard(sid)
        if not document.sockets and (document.saving is None or document.saving.done()):
            del self.documents[document_id]
        elif not document.sockets and document.saving is not None:
            # The last edit is still being saved: the document goes once it is.
            document.saving.add_done_callback(
                lambda _: self.documents.pop(document_id, None)
                if not document.sockets else None)


def _bytes(value: object) -> bytes | None:
    """An update as the app sends it: a list of byte values."""
    if not isinstance(value, list) or not value or len(value) > MAX_DOCUMENT_BYTES:
        return None
    try:
        return bytes(value)
    except (TypeError, ValueError):
        return None
