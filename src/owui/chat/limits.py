"""Sizes the chat service accepts; past them a request gets 413 or 422 naming the field."""

from __future__ import annotations

from fastapi import HTTPException, status

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


class InvalidChat(HTTPException):
    """What a client sent cannot be stored; `detail` says what and where."""


def too_large(field: str, size: int, limit: int, unit: str = "characters") -> InvalidChat:
    return InvalidChat(status.HTTP_413_CONTENT_TOO_LARGE,
                       f"{field} is {size:,} {unit}; the limit is {limit:,}.")


def invalid(detail: str, status_code: int = status.HTTP_422_UNPROCESSABLE_CONTENT) -> InvalidChat:
    return InvalidChat(status_code, detail)


def check_title(title: object, field: str = "chat.title") -> str:
    if not isinstance(title, str):
        raise invalid(f"{field} must be a string.")
    if len(title) > MAX_TITLE_CHARS:
        raise invalid(f"{field} is {len(title):,} characters; the limit is {MAX_TITLE_CHARS:,}.")
    return title
