"""Saved versions of tools and functions, as Open WebUI's history keeps them: every save that
changes the name, the source or the meta adds a version (its parent the one in production
before), the row's `version_id` names the version in production, and an older version can be
put back into production (its saved configuration then runs again)."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.agent.models import Function, PluginVersion, Tool
from owui.core.db import new_id
from owui.core.errors import BadRequestError, NotFoundError
from owui.core.tokens import Claims

PAGE_SIZE = 20
# Derived from the source on every save, so not part of what a version is.
_DERIVED_META = {"tool": ("manifest", "has_user_valves"),
                 "function": ("manifest", "has_user_valves", "toggle", "icon", "actions")}

Row = Tool | Function


def snapshot(kind: str, name: str, content: str, meta: dict[str, Any] | None) -> dict[str, Any]:
    """What a version holds: name, source and the meta the user wrote."""
    kept = copy.deepcopy(meta or {})
    kept.setdefault("description", None)
    if not kept.get("i18n"):
        kept.pop("i18n", None)
    for key in _DERIVED_META[kind]:
        kept.pop(key, None)
    return {"name": name, "content": content or "", "meta": kept}


def snapshot_of(kind: str, row: Row) -> dict[str, Any]:
    return snapshot(kind, row.name, row.content, row.meta)


def record(session: AsyncSession, kind: str, row: Row, user: Claims, before: dict[str, Any] | None,
           message: str | None) -> None:
    """After `row` was changed: a new version when what it is changed (or it has none yet)."""
    after = snapshot_of(kind, row)
    if after == before and row.version_id:
        return
    version = PluginVersion(id=new_id(), kind=kind, item_id=row.id, parent_id=row.version_id,
                            snapshot=after, user_id=user.sub, user_name=user.name,
                            commit_message=message)
    session.add(version)
    row.version_id = version.id


async def page_of(session: AsyncSession, kind: str, item_id: str, page: int
                  ) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(PluginVersion).where(PluginVersion.kind == kind, PluginVersion.item_id == item_id)
        .order_by(PluginVersion.seq.desc(), PluginVersion.id.desc())
        .offset((max(1, page) - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return [entry_view(kind, v) for v in rows]


async def entry(session: AsyncSession, kind: str, item_id: str, version_id: str
                ) -> PluginVersion:
    found = await session.get(PluginVersion, version_id)
    if found is None or found.kind != kind or found.item_id != item_id:
        raise NotFoundError("Version not found")
    return found


def entry_view(kind: str, version: PluginVersion, with_snapshot: bool = False) -> dict[str, Any]:
    """Open WebUI's ToolHistoryResponse / FunctionHistoryResponse (and ...Model, with the
    snapshot)."""
    view = {"id": version.id, f"{kind}_id": version.item_id, "parent_id": version.parent_id,
            "user_id": version.user_id, "commit_message": version.commit_message,
            "created_at": version.created_at,
            "user": {"name": version.user_name} if version.user_name else None}
    if with_snapshot:
        view["snapshot"] = version.snapshot
    return view


async def delete(session: AsyncSession, kind: str, row: Row, version_id: str) -> None:
    """Remove a version that is not in production; its children take its parent."""
    if row.version_id == version_id:
        raise BadRequestError("Cannot delete the current version")
    version = await entry(session, kind, row.id, version_id)
    await session.execute(
        update(PluginVersion)
        .where(PluginVersion.kind == kind, PluginVersion.item_id == row.id,
               PluginVersion.parent_id == version_id)
        .values(parent_id=version.parent_id))
    await session.delete(version)
    await session.commit()


async def forget_item(session: AsyncSession, kind: str, item_id: str) -> None:
    """A deleted tool or function takes its versions with it."""
    for version in await session.scalars(select(PluginVersion).where(
            PluginVersion.kind == kind, PluginVersion.item_id == item_id)):
        await session.delete(version)


def diff(before: PluginVersion, after: PluginVersion) -> dict[str, Any]:
    left, right = before.snapshot, after.snapshot
    metadata = {key: {"before": left.get(key), "after": right.get(key)}
                for key in ("name", "meta") if left.get(key) != right.get(key)}
    old, new = left.get("content") or "", right.get("content") or ""
    patch = "\n".join(difflib.unified_diff(old.splitlines(), new.splitlines(),
                                           fromfile="selected.py", tofile="production.py",
                                           lineterm=""))
    return {"from_id": before.id, "to_id": after.id, "metadata": metadata,
            "content_diff": patch, "line_endings_only": old != new and not patch}
