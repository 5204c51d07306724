"""Every response the chat service answers, built from rows as the dict of its shape in
schemas.py (Open WebUI's ChatResponse, ChatTitleIdResponse, TagModel, FolderModel, ...); the
routes return these dicts as they are (orjson, no second validation). Messages are built by
tree.message_out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from owui.chat.schemas import (
    ChatResponse,
    ChatTitleIdResponse,
    FolderModel,
    FolderNameIdResponse,
    Preferences,
    SharedChatResponse,
    TagModel,
)


def chat_response(chat: Any, body: dict[str, Any], tags: list[str], share_id: str | None
                  ) -> ChatResponse:
    """`chat`: a chats row (attributes); `body`: the assembled Open WebUI chat object."""
    return {
        "id": chat.id, "user_id": chat.user_id, "title": chat.title, "chat": body,
        "updated_at": chat.updated_at, "created_at": chat.created_at, "share_id": share_id,
        "archived": bool(chat.archived), "pinned": bool(chat.pinned),
        "meta": {**(chat.meta or {}), "tags": tags}, "variables": chat.variables or {},
        "folder_id": chat.folder_id, "current_message_id": chat.current_message_id,
        "tasks": None, "summary": None, "context_usage": None,
    }


def title_ids(rows: Iterable[Sequence[Any]]) -> list[ChatTitleIdResponse]:
    """Rows of (id, title, updated_at, created_at, archived, active, last_read_at). A chat
    without a read mark (None) reads as read up to its last change; "mark as unread" (0) or an
    answer not seen makes one unread (crud/reading.py); `snippet` is Open WebUI's matched text of a
    search, which owui's lists leave out; `active`: an answer is being written."""
    return [{"id": r[0], "title": r[1], "updated_at": r[2], "created_at": r[3],
             "last_read_at": r[2] if r[6] is None else r[6], "snippet": None,
             "active": bool(r[5]), "archived": bool(r[4])} for r in rows]


def tag_models(rows: Iterable[Sequence[Any]], user_id: str,
               decode: Callable[[Any], Any]) -> list[TagModel]:
    """Rows of (id, name, meta as stored); `decode` reads the stored JSON."""
    return [{"id": r[0], "name": r[1], "user_id": user_id, "meta": decode(r[2])} for r in rows]


def shared_chats(rows: Iterable[Any]) -> list[SharedChatResponse]:
    """Shares rows (attributes id, chat_id, title, updated_at, created_at)."""
    return [{"id": r.id, "chat_id": r.chat_id, "title": r.title, "share_id": r.id,
             "updated_at": r.updated_at, "created_at": r.created_at} for r in rows]


def folder_model(folder: Any, access_grants: list[dict[str, Any]] | None = None,
                 write_access: bool = True) -> FolderModel:
    """Open WebUI's FolderResponse: `access_grants` and `write_access` are the caller's view
    (the owner sees the grants and may write)."""
    return {"id": folder.id, "parent_id": folder.parent_id, "user_id": folder.user_id,
            "name": folder.name, "meta": folder.meta, "data": folder.data,
            "is_expanded": folder.is_expanded, "created_at": folder.created_at,
            "updated_at": folder.updated_at, "items": None,
            "access_grants": access_grants or [], "write_access": write_access}


def folder_name_id(folder: Any, unread: int = 0) -> FolderNameIdResponse:
    return {"id": folder.id, "name": folder.name, "meta": folder.meta,
            "parent_id": folder.parent_id, "is_expanded": folder.is_expanded,
            "unread_count": unread, "created_at": folder.created_at,
            "updated_at": folder.updated_at}


def preferences(settings: dict[str, Any]) -> Preferences:
    """The chat fields of a settings document (where Open WebUI keeps them: `ui.*`)."""
    ui = settings.get("ui") or {}
    models = ui.get("models") or []
    return {"default_model": models[0] if models else None, "system_prompt": ui.get("system"),
            "params": ui.get("params") or {}, "ui": ui}
