"""Sizes the chat service accepts; past them a request gets 413 (errors.TooLarge) or 422 naming
the field."""

from __future__ import annotations

from owui.chat.errors import InvalidChat

MAX_TITLE_CHARS = 1_000
MAX_CONTENT_CHARS = 500_000
MAX_MESSAGES_PER_CHAT = 20_000
MAX_MESSAGE_ID_CHARS = 128
MAX_ROLE_CHARS = 32
MAX_TAG_NAME_CHARS = 100
MAX_FOLDER_NAME_CHARS = 255
MAX_SETTINGS_BYTES = 256 * 1024
MAX_SEARCH_CHARS = 500
PAGE_SIZE = 60


def check_title(title: object, field: str = "chat.title") -> str:
    if not isinstance(title, str):
        raise InvalidChat(f"{field} must be a string.")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidChat(f"{field} is {len(title):,} characters; "
                          f"the limit is {MAX_TITLE_CHARS:,}.")
    return title
