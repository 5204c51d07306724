"""The chat service's tables: chats, messages (one row each), tags, folders, shares, preferences.

A chat's messages are rows, not one JSON blob: appending writes one row, and Open WebUI's
`chat.history` shape is assembled from the rows at the edge (see `tree.py`). Each message keeps
the fields Open WebUI gives it beyond the columns in `extra`, so that a round trip loses nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from owui.core.db import Base, new_id
from owui.core.db import now_epoch as now  # the chat code says now()
from owui.core.live_config import live_config_table

# SQLite makes only `INTEGER PRIMARY KEY` an alias of the rowid, which FTS5 indexes by.
RowId = BigInteger().with_variant(Integer(), "sqlite")

ID_LENGTH = 36
MESSAGE_ID_LENGTH = 128
USER_ID_LENGTH = 64
TAG_ID_LENGTH = 128


class ChatBase(Base):
    __abstract__ = True
    metadata = MetaData()


class Folder(ChatBase):
    __tablename__ = "folders"
    __table_args__ = (Index("ix_folders_user_parent", "user_id", "parent_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("folders.id", ondelete="CASCADE"), nullable=True)
    name: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    is_expanded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Chat(ChatBase):
    __tablename__ = "chats"
    __table_args__ = (
        # The chat list: a user's chats, newest first, read straight from the index.
        Index("ix_chats_user_list", "user_id", "archived", "updated_at", "pk"),
        Index("ix_chats_user_pinned", "user_id", "pinned"),
        Index("ix_chats_folder", "folder_id"),
        Index("ix_chats_note", "note_id"),
    )

    pk: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    title: Mapped[str] = mapped_column(Text)
    # Open WebUI's `chat` object without title, history and messages (kept as rows).
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    current_message_id: Mapped[str | None] = mapped_column(String(MESSAGE_ID_LENGTH),
                                                           nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    variables: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    folder_id: Mapped[str | None] = mapped_column(
        ForeignKey("folders.id", ondelete="SET NULL"), nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)
    # Unread while updated_at is past it (Open WebUI's read state; None: never opened).
    last_read_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # A hidden chat about this note (routes/notes.py): in no chat list; it goes with the note.
    note_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)


class Message(ChatBase):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "id", name="uq_messages_chat_id"),
        # With the id, a message's children come from the index alone.
        Index("ix_messages_chat_parent_id", "chat_id", "parent_id", "id"),
        {"sqlite_autoincrement": True},
    )

    # Insertion order: also the order of a message's children (Open WebUI's `childrenIds`).
    pk: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(String(MESSAGE_ID_LENGTH))
    parent_id: Mapped[str | None] = mapped_column(String(MESSAGE_ID_LENGTH), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text, nullable=True)
    timestamp: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Tag(ChatBase):
    __tablename__ = "tags"

    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    id: Mapped[str] = mapped_column(String(TAG_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class ChatTag(ChatBase):
    __tablename__ = "chat_tags"
    __table_args__ = (Index("ix_chat_tags_user_tag", "user_id", "tag_id"),)

    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"),
                                         primary_key=True)
    tag_id: Mapped[str] = mapped_column(String(TAG_ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))


class Share(ChatBase):
    """A share link: the chat as it stood when shared (messages up to `message_cut`)."""

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"),
                                         unique=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    title: Mapped[str] = mapped_column(Text)
    current_message_id: Mapped[str | None] = mapped_column(String(MESSAGE_ID_LENGTH),
                                                           nullable=True)
    message_cut: Mapped[int] = mapped_column(BigInteger)
    share_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Preference(ChatBase):
    """A user's settings, in Open WebUI's `UserSettings` layout (`{"ui": {...}, ...}`)."""

    __tablename__ = "preferences"

    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Turn(ChatBase):
    """A chat turn being generated: its assistant message, and the process generating it."""

    __tablename__ = "turns"

    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"),
                                         primary_key=True)
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    runner: Mapped[str] = mapped_column(Text)
    started_at: Mapped[int] = mapped_column(BigInteger)


class AccessGrant(ChatBase):
    """Who else may open a chat or a folder: a user or group, with read or write."""

    __tablename__ = "chat_access_grants"
    __table_args__ = (
        UniqueConstraint("resource_type", "resource_id", "principal_type", "principal_id",
                         "permission", name="uq_chat_access_grants_grant"),
        Index("ix_chat_access_grants_principal", "principal_type", "principal_id", "resource_type"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    principal_type: Mapped[str] = mapped_column(String(32))
    principal_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    permission: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Feedback(ChatBase):
    """A rating of an answer, in Open WebUI's layout; chat and message copied out of `meta`."""

    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_user_updated", "user_id", "updated_at"),
        Index("ix_feedback_chat_message", "chat_id", "message_id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    type: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    chat_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(MESSAGE_ID_LENGTH), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Prompt(ChatBase):
    """A prompt of the `/` menu (Open WebUI's workspace prompts); commands unique per user."""

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("user_id", "command", name="uq_prompts_user_command"),
        Index("ix_prompts_user_updated", "user_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    command: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    tags: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


class PromptVersion(ChatBase):
    """A prompt as it stood when saved (Open WebUI's prompt history: a commit and its parent)."""

    __tablename__ = "prompt_versions"
    __table_args__ = (Index("ix_prompt_versions_prompt", "prompt_id", "number"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    prompt_id: Mapped[str] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per prompt: the order of saving
    parent_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    commit_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Note(ChatBase):
    """A note of the Notes page; times in nanoseconds, as Open WebUI keeps a note's."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_user_updated", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    title: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    pinned_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Memory(ChatBase):
    """A memory of the user's (Settings > Personalization); its vector is the retrieval
    service's, in the user's memory collection, written only by the chat service."""

    __tablename__ = "memories"
    __table_args__ = (Index("ix_memories_user_updated", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    type: Mapped[str] = mapped_column(String(16), default="context")
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    content: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now)


# Settings an admin changes at run time (core/live_config.py; the chat settings: chat_config.py).
LiveConfigTable = live_config_table(ChatBase.metadata, "chat")
