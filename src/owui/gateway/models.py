"""The gateway's tables: users, groups, API keys, token revocations and live settings."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owui.core.db import Base, new_id, now_epoch
from owui.core.live_config import live_config_table


class GatewayBase(Base):
    __abstract__ = True
    metadata = MetaData()


class User(GatewayBase):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    profile_image_url: Mapped[str] = mapped_column(Text, default="/user.png")
    # Fractional seconds: the earliest account becomes admin, even when two sign up at once.
    created_at: Mapped[float] = mapped_column(Float, default=time.time, index=True)
    updated_at: Mapped[int] = mapped_column(Integer, default=now_epoch, onupdate=now_epoch)
    last_active_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    # The profile the web app shows and edits (Open WebUI's fields); timezone is the browser's.
    bio: Mapped[str | None] = mapped_column(Text, nullable=True)
    gender: Mapped[str | None] = mapped_column(String(64), nullable=True)
    date_of_birth: Mapped[str | None] = mapped_column(String(10), nullable=True)  # YYYY-MM-DD
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status_emoji: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    status_expires_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Open WebUI's free-form `info` (the admin's notes on a user) and the user's own variables
    # ({{NAME}} in prompts).
    info: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    variables: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Group(GatewayBase):
    """A group of users; its `permissions` (Open WebUI's shape, possibly partial) add to the
    default permissions of its members, most permissive wins."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36))  # who made it
    # Members of a group are members of its parent too (Open WebUI's hierarchy).
    parent_group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    permissions: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    updated_at: Mapped[int] = mapped_column(Integer, default=now_epoch, onupdate=now_epoch)


class GroupMember(GatewayBase):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)


class ApiKey(GatewayBase):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    last_used_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Revocation(GatewayBase):
    """A revoked token (`jti`), all of a user's tokens issued before a time, or an API key."""

    __tablename__ = "revocations"
    __table_args__ = (Index("ix_revocations_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # jti | user | api_key
    subject: Mapped[str] = mapped_column(String(64))
    issued_before: Mapped[float | None] = mapped_column(Float, nullable=True)
    expires_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


# Settings an admin changes at run time (core.live_config): sign-up, default role, banners...
LIVE_CONFIG = live_config_table(GatewayBase.metadata, "gateway")
