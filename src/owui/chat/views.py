"""Response shapes built from rows: Open WebUI's ChatResponse, TagModel, FolderModel, ..."""

from __future__ import annotations

from typing import Any


def chat_response(chat: Any, body: dict[str, Any], tags: list[str], share_id: str | None
                  ) -> dict[str, Any]:
    """`chat`: a chats row (attributes); `body`: the assembled Open WebUI chat object."""
    return {
        "id": chat.id, "user_id": chat.user_id, "title": chat.title, "chat": body,
        "updated_at": chat.updated_at, "created_at": chat.created_at, "share_id": share_id,
        "archived": bool(chat.archived), "pinned": bool(chat.pinned),
        "meta": {**(chat.meta or {}), "tags": tags}, "variables": chat.variables or {},
        "folder_id": chat.folder_id, "current_message_id": chat.current_message_id,
    }


def folder_model(folder: Any) -> dict[str, Any]:
    return {"id": folder.id, "parent_id": folder.parent_id, "user_id": folder.user_id,
            "name": folder.name, "meta": folder.meta, "data": folder.data,
            "is_expanded": folder.is_expanded, "created_at": folder.created_at,
            "updated_at": folder.updated_at}


def folder_name_id(folder: Any) -> dict[str, Any]:
    return {"id": folder.id, "name": folder.name, "meta": folder.meta,
            "parent_id": folder.parent_id, "is_expanded": folder.is_expanded,
            "created_at": folder.created_at, "updated_at": folder.updated_at}
