"""The inference service's tables: provider connections and model presets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, MetaData, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owui.core.db import Base, new_id, now_epoch
from owui.core.live_config import live_config_table


class InferenceBase(Base):
    __abstract__ = True
    metadata = MetaData()


class Connection(InferenceBase):
    """One provider endpoint: an Ollama host or an OpenAI-compatible base URL."""

    __tablename__ = "connections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(16))  # ollama | openai
    url: Mapped[str] = mapped_column(Text)
    api_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # Open WebUI's prefix_id: the connection's models are listed as "<prefix>.<model>".
    prefix_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(8), default="admin")  # env | admin
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Open WebUI's per-connection options (tags, model_ids, connection_type, ...), kept as sent.
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    updated_at: Mapped[int] = mapped_column(Integer, default=now_epoch, onupdate=now_epoch)


class Preset(InferenceBase):
    """Open WebUI's workspace model: a base model with a name, a system prompt and params."""

    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    base_model_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    name: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    access_grants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The history entry the preset is now (Open WebUI's "production" version).
    version_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    updated_at: Mapped[int] = mapped_column(Integer, default=now_epoch, onupdate=now_epoch)


class PresetVersion(InferenceBase):
    """A snapshot of a preset (name, base model, params, meta) taken at each save."""

    __tablename__ = "model_history"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(String(256), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    user_id: Mapped[str] = mapped_column(String(64))
    commit_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)


class State(InferenceBase):
    """Small facts the service keeps, e.g. that the environment's connections were seeded."""

    __tablename__ = "inference_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# Settings an admin changes at run time (the providers' switches): owui.core.live_config.
LIVE_CONFIG = live_config_table(InferenceBase.metadata, "inference")
