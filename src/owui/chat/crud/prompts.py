"""Prompts of the `/` menu and their versions, as Open WebUI's workspace keeps them: a command
unique per user, each save of a changed prompt a new version (a snapshot with its parent), one
version the prompt's current one (`version_id`). A prompt is its owner's alone: another user's
is absent (404)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.models import Prompt, PromptVersion, now
from owui.core.errors import BadRequestError, ConflictError, NotFoundError

PAGE_SIZE = 30  # Open WebUI's page of the prompts list
HISTORY_PAGE_SIZE = 20
# Fields a version keeps (Open WebUI's snapshot, less the access grants: prompts are private).
SNAPSHOT_FIELDS = ("name", "content", "command", "data", "meta", "tags")


class PromptNotFound(NotFoundError):
    def __init__(self, prompt_id: str) -> None:
        super().__init__(f"No prompt {prompt_id!r}.")


class VersionNotFound(NotFoundError):
    def __init__(self, version_id: str) -> None:
        super().__init__(f"The prompt has no version {version_id!r}.")


class CommandTaken(ConflictError):
    def __init__(self, command: str) -> None:
        super().__init__(f"You already have a prompt with the command '/{command}'.")


class CurrentVersion(BadRequestError):
    def __init__(self) -> None:
        super().__init__("The prompt's current version cannot be deleted; make another version "
                         "current first.")


@dataclass(frozen=True, slots=True)
class Fields:
    """What a save sets: the prompt's fields as the form gives them (None: left as it is)."""

    command: str
    name: str
    content: str
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    tags: list[str] | None = None


def snapshot(prompt: Prompt) -> dict[str, Any]:
    return {"name": prompt.name, "content": prompt.content, "command": prompt.command,
            "data": prompt.data or {}, "meta": prompt.meta or {}, "tags": prompt.tags or [],
            "access_grants": []}


async def require(session: AsyncSession, prompt_id: str, user_id: str) -> Prompt:
    prompt = await session.scalar(select(Prompt).where(Prompt.id == prompt_id,
                                                       Prompt.user_id == user_id))
    if prompt is None:
        raise PromptNotFound(prompt_id)
    return prompt


async def check_command_free(session: AsyncSession, user_id: str, command: str,
                             except_id: str | None = None) -> None:
    statement = select(Prompt.id).where(Prompt.user_id == user_id, Prompt.command == command)
    if except_id is not None:
        statement = statement.where(Prompt.id != except_id)
    if await session.scalar(statement.limit(1)) is not None:
        raise CommandTaken(command)


async def _add_version(session: AsyncSession, prompt: Prompt, kept: dict[str, Any],
                       user_id: str, message: str | None) -> PromptVersion:
    last = await session.scalar(select(PromptVersion).where(
        PromptVersion.prompt_id == prompt.id).order_by(PromptVersion.number.desc()).limit(1))
    version = PromptVersion(prompt_id=prompt.id, number=(last.number + 1) if last else 1,
                            parent_id=last.id if last else None, snapshot=kept,
                            user_id=user_id, commit_message=message, created_at=now())
    session.add(version)
    await session.flush()
    return version


async def create(session: AsyncSession, user_id: str, fields: Fields,
                 message: str | None) -> Prompt:
    await check_command_free(session, user_id, fields.command)
    stamp = now()
    prompt = Prompt(user_id=user_id, command=fields.command, name=fields.name,
                    content=fields.content, data=fields.data or {}, meta=fields.meta or {},
                    tags=fields.tags or [], is_active=True, created_at=stamp, updated_at=stamp)
    session.add(prompt)
    await session.flush()
    version = await _add_version(session, prompt, snapshot(prompt), user_id,
                                 message or "Initial version")
    prompt.version_id = version.id
    return prompt


async def save(session: AsyncSession, prompt: Prompt, fields: Fields, user_id: str,
               message: str | None, production: bool) -> Prompt:
    """Open WebUI's update: the command at once; the rest when `production` (else only kept
    as a new version); a new version when name, command, content or tags changed."""
    if fields.command != prompt.command:
        await check_command_free(session, prompt.user_id, fields.command, except_id=prompt.id)
    changed = (fields.name != prompt.name or fields.command != prompt.command
               or fields.content != prompt.content
               or (fields.tags is not None and fields.tags != prompt.tags))
    before = snapshot(prompt)
    prompt.command = fields.command
    if production:
        _apply(prompt, fields)
    prompt.updated_at = now()
    if changed:  # the version keeps what the form gave, current or not
        kept = {**before, **_given(fields), "command": fields.command}
        version = await _add_version(session, prompt, kept, user_id, message)
        if production:
            prompt.version_id = version.id
    return prompt


def _given(fields: Fields) -> dict[str, Any]:
    given: dict[str, Any] = {"name": fields.name, "content": fields.content,
                             "data": fields.data or {}, "meta": fields.meta or {}}
    if fields.tags is not None:
        given["tags"] = fields.tags
    return given


def _apply(prompt: Prompt, fields: Fields) -> None:
    prompt.name, prompt.content = fields.name, fields.content
    prompt.data = fields.data or prompt.data
    prompt.meta = fields.meta or prompt.meta
    if fields.tags is not None:
        prompt.tags = fields.tags


async def rename(session: AsyncSession, prompt: Prompt, name: str, command: str,
                 tags: list[str] | None) -> Prompt:
    """Name, command and tags only: no new version (Open WebUI's update/meta)."""
    if command != prompt.command:
        await check_command_free(session, prompt.user_id, command, except_id=prompt.id)
    prompt.name, prompt.command = name, command
    if tags is not None:
        prompt.tags = tags
    prompt.updated_at = now()
    return prompt


async def version_of(session: AsyncSession, prompt: Prompt, version_id: str) -> PromptVersion:
    version = await session.scalar(select(PromptVersion).where(
        PromptVersion.id == version_id, PromptVersion.prompt_id == prompt.id))
    if version is None:
        raise VersionNotFound(version_id)
    return version


async def make_current(session: AsyncSession, prompt: Prompt, version_id: str) -> Prompt:
    """The version's name, content, data, meta and tags back (not its command)."""
    kept = (await version_of(session, prompt, version_id)).snapshot
    prompt.name = kept.get("name", prompt.name)
    prompt.content = kept.get("content", prompt.content)
    prompt.data = kept.get("data", prompt.data)
    prompt.meta = kept.get("meta", prompt.meta)
    prompt.tags = kept.get("tags", prompt.tags)
    prompt.version_id = version_id
    prompt.updated_at = now()
    return prompt


async def versions(session: AsyncSession, prompt: Prompt, page: int) -> list[PromptVersion]:
    statement = (select(PromptVersion).where(PromptVersion.prompt_id == prompt.id)
                 .order_by(PromptVersion.number.desc())
                 .offset(page * HISTORY_PAGE_SIZE).limit(HISTORY_PAGE_SIZE))
    return list(await session.scalars(statement))


async def drop_version(session: AsyncSession, prompt: Prompt, version_id: str) -> None:
    """A version goes; its children take its parent (Open WebUI's reparenting)."""
    if prompt.version_id == version_id:
        raise CurrentVersion()
    version = await version_of(session, prompt, version_id)
    await session.execute(update(PromptVersion).where(
        PromptVersion.prompt_id == prompt.id, PromptVersion.parent_id == version.id
    ).values(parent_id=version.parent_id))
    await session.delete(version)


async def diff(session: AsyncSession, prompt: Prompt, from_id: str,
               to_id: str) -> dict[str, Any]:
    old = (await version_of(session, prompt, from_id)).snapshot
    new = (await version_of(session, prompt, to_id)).snapshot
    old_text, new_text = str(old.get("content") or ""), str(new.get("content") or "")
    lines = list(difflib.unified_diff(old_text.splitlines(), new_text.splitlines(),
                                      fromfile=f"v{from_id[:8]}", tofile=f"v{to_id[:8]}",
                                      lineterm=""))
    return {"from_id": from_id, "to_id": to_id, "from_snapshot": old, "to_snapshot": new,
            "content_diff": lines, "line_endings_only": not lines and old_text != new_text,
            "name_changed": old.get("name") != new.get("name")}


async def remove(session: AsyncSession, prompt: Prompt) -> None:
    await session.execute(delete(PromptVersion).where(PromptVersion.prompt_id == prompt.id))
    await session.delete(prompt)


async def active(session: AsyncSession, user_id: str) -> list[Prompt]:
    """The `/` menu's prompts: the user's active ones, the last changed first."""
    statement = (select(Prompt).where(Prompt.user_id == user_id, Prompt.is_active.is_(True))
                 .order_by(Prompt.updated_at.desc(), Prompt.id))
    return list(await session.scalars(statement))


@dataclass(frozen=True, slots=True)
class Query:
    """The prompts page's filters (Open WebUI's `/prompts/list` parameters)."""

    text: str | None = None
    view: str | None = None  # "created": the user's (all are); "shared": others' (none are)
    tag: str | None = None
    order_by: str | None = None
    direction: str | None = None


ORDER = {"name": Prompt.name, "created_at": Prompt.created_at, "updated_at": Prompt.updated_at}


async def search(session: AsyncSession, user_id: str, query: Query,
                 page: int) -> tuple[list[Prompt], int]:
    statement = select(Prompt).where(Prompt.user_id == user_id)
    if query.view == "shared":  # prompts are private: none is shared with the user
        return [], 0
    if query.text:
        like = f"%{query.text.lower()}%"
        statement = statement.where(or_(func.lower(Prompt.name).like(like),
                                        func.lower(Prompt.command).like(like),
                                        func.lower(Prompt.content).like(like)))
    if query.tag:  # a tag as a JSON string inside the list (both databases store JSON text)
        needle = f'%"{query.tag.lower()}"%'
        statement = statement.where(func.lower(cast(Prompt.tags, String)).like(needle))
    total = await session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    column = ORDER.get(query.order_by or "", Prompt.updated_at)
    order = column.asc() if query.direction == "asc" else column.desc()
    rows = await session.scalars(statement.order_by(order, Prompt.id)
                                 .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return list(rows), total


async def tags(session: AsyncSession, user_id: str) -> list[str]:
    found: set[str] = set()
    for row in await session.scalars(select(Prompt.tags).where(
            Prompt.user_id == user_id, Prompt.is_active.is_(True))):
        found.update(t for t in row or [] if isinstance(t, str))
    return sorted(found)
