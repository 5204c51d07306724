"""Import (`POST /chats/import`) in Open WebUI's format.

An import is checked whole before anything is written, then written in one transaction: a bad
chat anywhere stores nothing. (Export is `reads.batches`.)
"""

from __future__ import annotations

from typing import Any

from owui.chat.crud.tags import tag_id
from owui.chat.errors import BadChat, InvalidChat
from owui.chat.limits import MAX_TAG_NAME_CHARS
from owui.chat.rawdb import RawConnection
from owui.chat.responses import dumps
from owui.chat.schemas import ChatImportForm
from owui.chat.search import index_messages
from owui.chat.tree import parse_chat
from owui.chat.writes import NewChat, insert_chats, new_chat


def _tags(meta: dict[str, Any] | None, where: str) -> dict[str, str]:
    tags = (meta or {}).get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidChat(f"{where}.meta.tags must be a list of strings.")
    found = {tag_id(t): t for t in tags if t.strip() and tag_id(t) != "none"}
    if any(len(t) > MAX_TAG_NAME_CHARS for t in found):
        raise InvalidChat(f"{where}.meta.tags: a tag is longer than {MAX_TAG_NAME_CHARS}.")
    return found


def prepare(user_id: str, index: int, form: ChatImportForm, folders: set[str]) -> NewChat:
    where = f"chats[{index}]"
    try:
        parsed = parse_chat(form.chat)
    except BadChat as exc:
        # Everything wrong in an import file is the file's fault: 422, naming the chat.
        raise InvalidChat(f"{where}: {exc.detail}") from None
    if parsed.current_id is None and parsed.messages:
        wanted = form.current_message_id
        parsed.current_id = wanted if any(m.id == wanted for m in parsed.messages) else None
    return new_chat(
        user_id, parsed, folder_id=form.folder_id if form.folder_id in folders else None,
        variables=form.variables, meta=form.meta, pinned=bool(form.pinned),
        archived=bool(form.archived), created_at=form.created_at, updated_at=form.updated_at,
        tags=_tags(form.meta, where))


async def import_chats(conn: RawConnection, user_id: str, forms: list[ChatImportForm]
                       ) -> bytes:
    """Stores the chats; returns their ChatResponses as a JSON array, built one chat at a
    time so that a large import never holds them all as objects at once."""
    if not forms:
        raise InvalidChat("chats: nothing to import.")
    params: dict[str, Any] = {"user_id": user_id}
    wanted = conn.in_list("folders", sorted({f.folder_id for f in forms if f.folder_id}), params)
    folders = {row[0] for row in await conn.fetch(
        f"SELECT id FROM folders WHERE user_id = :user_id AND id {wanted}", params)}
    prepared = [prepare(user_id, i, form, folders) for i, form in enumerate(forms)]

    async def job(writer: RawConnection) -> None:
        await insert_chats(writer, prepared)
        if writer.dialect == "sqlite":  # a bulk load: index it now, in one go, not later
            await index_messages(writer, limit=None)

    await conn.write(job)
    return b"[" + b",".join(dumps(chat.response()) for chat in prepared) + b"]"
