"""The retrieval service's tables: files, knowledge collections and their grants, named
collections of text, and ingestion jobs. Vectors live in the vector store, keyed by collection."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owui.core.db import Base, new_id, now_epoch
from owui.core.live_config import live_config_table


class RetrievalBase(Base):
    __abstract__ = True
    metadata = MetaData()


class File(RetrievalBase):
    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    # The storage key, chosen by us: never derived from what the client sent.
    path: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch, index=True)
    updated_at: Mapped[int] = mapped_column(Integer, default=now_epoch, onupdate=now_epoch)


class Knowledge(RetrievalBase):
    __tablename__ = "knowledge"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch, index=True)
    updated_at: Mapped[int] = mapped_column(Integer, default=now_epoch, onupdate=now_epoch)


class KnowledgeFile(RetrievalBase):
    __tablename__ = "knowledge_files"

    knowledge_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge.id", ondelete="CASCADE"), primary_key=True)
    file_id: Mapped[str] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True, index=True)
    # Where the file sits in the collection's folders (None: at the top).
    directory_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)


class KnowledgeDirectory(RetrievalBase):
    """A folder inside a collection (Open WebUI 0.12); parent_id None: at the top."""

    __tablename__ = "knowledge_directories"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    knowledge_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    updated_at: Mapped[int] = mapped_column(Integer, default=now_epoch, onupdate=now_epoch)


class AccessGrant(RetrievalBase):
    """Who else may read or write a resource: a user by id, or everyone ('*')."""

    __tablename__ = "access_grants"
    __table_args__ = (Index("ix_access_grants_resource", "resource_type", "resource_id"),
                      Index("ix_access_grants_principal", "principal_type", "principal_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(64))
    principal_type: Mapped[str] = mapped_column(String(16))
    principal_id: Mapped[str] = mapped_column(String(64))
    permission: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)


class Collection(RetrievalBase):
    """A named collection of text a user made (process/text, web search): `key` is what the
    vector store knows it by, unique per user so that two users' names never meet."""

    __tablename__ = "collections"
    __table_args__ = (Index("ix_collections_user_name", "user_id", "name", unique=True),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # text | web
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)


class Job(RetrievalBase):
    """An ingestion: queued, running, completed or failed, with progress in chunks."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # file | text | web
    status: Mapped[str] = mapped_column(String(16), default="queued")
    file_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    collection: Mapped[str | None] = mapped_column(String(300), nullable=True)
    stage: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time, onupdate=time.time)


# Settings an admin changes at run time (documents, web search): owui.core.live_config.
LIVE_CONFIG = live_config_table(RetrievalBase.metadata, "retrieval")
