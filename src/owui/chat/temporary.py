"""Temporary chats: the web app keeps them and the service stores nothing of them. Their ids say
so: Open WebUI 0.12's `temporary:<socket id>`, and the older `local:<socket id>`."""

from __future__ import annotations

PREFIXES = ("temporary:", "local:")


def is_temporary(chat_id: object) -> bool:
    return isinstance(chat_id, str) and chat_id.startswith(PREFIXES)
