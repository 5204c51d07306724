"""The agent's tables: tools, functions, user valves, tasks, workflows and their runs."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from owui.core.db import Base, new_id, now_epoch
from owui.core.live_config import live_config_table


class AgentBase(Base):
    __abstract__ = True
    metadata = MetaData()


class Tool(AgentBase):
    """A user tool: Open WebUI's `class Tools` source, its specs and valves."""

    __tablename__ = "tools"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    specs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valves: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    access_grants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)


class Function(AgentBase):
    """A pipeline function: a filter, a pipe (a model) or an action."""

    __tablename__ = "functions"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valves: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    is_global: Mapped[bool] = mapped_column(Boolean, default=False)
    version_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)


class UserValves(AgentBase):
    """A user's own valve values for a tool or a function (Open WebUI's UserValves)."""

    __tablename__ = "user_valves"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # tool | function
    item_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    valves: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PluginVersion(AgentBase):
    """A saved version of a tool's or function's name, source and meta (Open WebUI's history);
    the row's `version_id` names the one in production."""

    __tablename__ = "plugin_versions"
    __table_args__ = (Index("ix_plugin_versions_item", "kind", "item_id", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # tool | function
    item_id: Mapped[str] = mapped_column(String(128))
    parent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    commit_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    # Orders versions saved within one second (created_at is whole seconds, as Open WebUI's).
    seq: Mapped[float] = mapped_column(Float, default=time.time)


class JobColumns:
    """What owui.agent.jobs reads and writes on a task or a workflow run: its state, whether a
    cancel was asked for, and which process runs it."""

    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which process runs it ("host:pid:boot") and when it last said so.
    runner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[float] = mapped_column(Float, default=time.time)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    updated_at: Mapped[float] = mapped_column(Float, default=time.time)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Task(JobColumns, AgentBase):
    """A background job: queued, running, then completed, failed or cancelled."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_user_created", "user_id", "created_at"),
                      Index("ix_tasks_status", "status"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)


class Workflow(AgentBase):
    __tablename__ = "workflows"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(Integer, default=now_epoch)
    updated_at: Mapped[int] = mapped_column(Integer, default=now_epoch, onupdate=now_epoch)


class WorkflowRun(JobColumns, AgentBase):
    __tablename__ = "workflow_runs"
    __table_args__ = (Index("ix_workflow_runs_workflow", "workflow_id", "created_at"),
                      Index("ix_workflow_runs_status", "status"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # as it was when the run began
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    current_step: Mapped[str | None] = mapped_column(String(128), nullable=True)


class WorkflowStep(AgentBase):
    """One step of one run, as it ran: its inputs, output or error, and times."""

    __tablename__ = "workflow_steps"
    __table_args__ = (Index("ix_workflow_steps_run", "run_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running")
    input: Mapped[Any] = mapped_column(JSON, nullable=True)
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[float] = mapped_column(Float, default=time.time)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


# Settings an admin changes at run time (tasks, code execution): owui.core.live_config.
LIVE_CONFIG = live_config_table(AgentBase.metadata, "agent")
