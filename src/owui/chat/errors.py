"""What goes wrong in the chat service below its routes, named for the chat's things. They know
nothing of HTTP: core.errors' handler answers each with its family's status, once, at the edge.

    core.errors.DomainError
     ├── NotFoundError             404
     │    ├── ChatNotFound           no chat of that id (or not the caller's)
     │    ├── MessageNotFound        no message of that id in the chat
     │    ├── FolderNotFound         no folder of that id (or not the caller's)
     │    └── ShareNotFound          no shared chat of that id (or revoked)
     ├── ForbiddenError            403
     │    └── RepliesNotAllowed      a shared chat the caller may read but not reply in
     ├── ConflictError             409
     │    ├── MessageTaken           the chat has a message of that id already
     │    └── FolderNameTaken        a sibling folder has that name
     ├── BadRequestError           400
     │    ├── NotInTree              a message's place does not fit the chat's tree
     │    └── FolderCycle            a folder moved into its own subtree
     └── BadChat                     what a client sent cannot be stored as a chat
          ├── InvalidChat          422  a value of the wrong kind or shape
          ├── BrokenTree           400  the messages do not make a tree (parent missing, cycle)
          └── TooLarge             413  past one of limits.py's sizes

(core.errors.not_found_response is something else: the OpenAPI description of a 404.)
"""

from __future__ import annotations

from owui.core.errors import (
    BadRequestError,
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
)


class ChatNotFound(NotFoundError):
    def __init__(self, chat_id: str) -> None:
        super().__init__(f"No chat {chat_id!r}.")


class MessageNotFound(NotFoundError):
    def __init__(self, chat_id: str, message_id: str) -> None:
        super().__init__(f"Chat {chat_id!r} has no message {message_id!r}.")


class FolderNotFound(NotFoundError):
    def __init__(self, folder_id: str) -> None:
        super().__init__(f"No folder {folder_id!r}.")


class ShareNotFound(NotFoundError):
    def __init__(self, share_id: str) -> None:
        super().__init__(f"No shared chat {share_id!r}.")


class RepliesNotAllowed(ForbiddenError):
    def __init__(self, chat_id: str, share_id: str) -> None:
        super().__init__(
            f"Chat {chat_id!r} is shared with you to read only: its owner did not allow "
            f"replies (share mode 'Clone only'), or allowed them only to the people they "
            f"named. Clone it to go on as your own chat: POST "
            f"/api/v1/chats/{share_id}/clone/shared.")


class MessageTaken(ConflictError):
    def __init__(self, chat_id: str, message_id: str) -> None:
        super().__init__(f"Chat {chat_id!r} already has a message {message_id!r}.")


class FolderNameTaken(ConflictError):
    def __init__(self, name: str) -> None:
        super().__init__(f"A folder named {name!r} already exists there.")


class NotInTree(BadRequestError):
    """A new message's parent is not a message of the chat (or not of the role it must be)."""


class FolderCycle(BadRequestError):
    def __init__(self, folder_id: str) -> None:
        super().__init__(f"Folder {folder_id!r} cannot move into itself or one of its "
                         "subfolders.")


class BadChat(DomainError):
    """What a client sent cannot be stored; `detail` says what and where."""


class InvalidChat(BadChat, InvalidError):
    pass


class BrokenTree(BadChat, BadRequestError):
    pass


class TooLarge(BadChat):
    status = 413

    def __init__(self, field: str, size: int, limit: int, unit: str = "characters") -> None:
        super().__init__(f"{field} is {size:,} {unit}; the limit is {limit:,}.")
