"""Memories, as Open WebUI's Personalization settings keep them: a text, a type (`user`: about
the person, always given to the model; `context`: found by relevance) and an optional path
(`work/projects`) that groups them. A memory is its owner's alone (another user's: 404)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.models import Memory, new_id, now
from owui.chat.workspace import MAX_MEMORY_CHARS, MAX_MEMORY_PATH_CHARS, check_chars
from owui.core.errors import BadRequestError, NotFoundError

TYPES = ("user", "context")


class MemoryNotFound(NotFoundError):
    def __init__(self, memory_id: str) -> None:
        super().__init__(f"No memory {memory_id!r}.")


class BadMemory(BadRequestError):
    pass


def clean_content(content: str | None) -> str:
    text = (content or "").strip()
    if not text:
        raise BadMemory("A memory needs some text ('content').")
    check_chars("content", text, MAX_MEMORY_CHARS)
    return text


def clean_path(path: str | None) -> str | None:
    """`a/b/c` (slashes collapsed, none at the ends); None for no path."""
    value = re.sub(r"/+", "/", (path or "").strip()).strip("/")
    if not value:
        return None
    check_chars("path", value, MAX_MEMORY_PATH_CHARS)
    if any(part in (".", "..") for part in value.split("/")) or any(ord(c) < 32 for c in value):
        raise BadMemory(f"Memory path {value!r} is not a path ('a/b', no '.' or '..').")
    return value


def kind(value: str | None) -> str:
    return "user" if value == "user" else "context"


def vector_text(memory: Memory) -> str:
    """What is embedded: the path, when there is one, then the text."""
    return f"{memory.path}\n{memory.content}" if memory.path else memory.content


def label(memory: Memory) -> str:
    return f"{memory.path}: {memory.content}" if memory.path else memory.content


def memory_model(memory: Memory) -> dict[str, Any]:
    return {"id": memory.id, "user_id": memory.user_id, "type": memory.type,
            "path": memory.path, "content": memory.content, "meta": memory.meta,
            "updated_at": memory.updated_at, "created_at": memory.created_at}


async def of_user(session: AsyncSession, user_id: str) -> list[Memory]:
    return list(await session.scalars(select(Memory).where(Memory.user_id == user_id)
                                      .order_by(Memory.updated_at, Memory.id)))


async def require(session: AsyncSession, memory_id: str, user_id: str) -> Memory:
    memory = await session.scalar(select(Memory).where(Memory.id == memory_id,
                                                       Memory.user_id == user_id))
    if memory is None:
        raise MemoryNotFound(memory_id)
    return memory


def add(session: AsyncSession, user_id: str, content: str, type_: str | None,
        path: str | None, meta: dict[str, Any]) -> Memory:
    stamp = now()
    memory = Memory(id=new_id(), user_id=user_id, type=kind(type_), path=path,
                    content=content, meta=meta, created_at=stamp, updated_at=stamp)
    session.add(memory)
    return memory


def change(memory: Memory, content: str | None, type_: str | None, path: str | None,
           set_path: bool, meta: dict[str, Any] | None = None) -> None:
    if content is not None:
        memory.content = content
    if type_ is not None:
        memory.type = kind(type_)
    if set_path:
        memory.path = path
    if meta:
        memory.meta = {**(memory.meta or {}), **meta}
    memory.updated_at = now()


async def remove_all(session: AsyncSession, user_id: str) -> int:
    result = await session.execute(delete(Memory).where(Memory.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


# ---- looking through a user's memories by text and path (Open WebUI's memory tools) ----------


def _parts(path: str | None) -> list[str]:
    return [part for part in (path or "").split("/") if part]


def matches(memory: Memory, query: str | None) -> bool:
    needle = (query or "").strip().lower()
    return not needle or needle in memory.content.lower() or needle in (memory.path or "").lower()


def path_rank(memory_path: str | None, wanted: str) -> tuple[int, int] | None:
    """How near a memory's path is to `wanted`: itself, below it, above it, a sibling, sharing
    parts, the same last part; None: unrelated."""
    if not memory_path:
        return None
    if memory_path == wanted:
        return (0, 0)
    mine, theirs = _parts(memory_path), _parts(wanted)
    if memory_path.startswith(wanted + "/"):
        return (1, len(mine) - len(theirs))
    if wanted.startswith(memory_path + "/"):
        return (2, len(theirs) - len(mine))
    if len(mine) > 1 and mine[:-1] == theirs[:-1]:
        return (3, 0)
    shared = len(set(mine) & set(theirs))
    if shared:
        return (4, -shared)
    return (5, 0) if mine[-1:] == theirs[-1:] else None


def search(memories: list[Memory], query: str | None, path: str | None, memory_id: str | None,
           type_: str, limit: int) -> list[Memory]:
    rows = [m for m in memories if (not memory_id or m.id == memory_id)
            and (type_ == "all" or m.type == type_) and matches(m, query)]
    wanted = clean_path(path)
    if wanted:
        last = _parts(wanted)[-1]
        rows = [m for m in rows if path_rank(m.path, wanted) is not None
                or last.lower() in f"{m.path or ''}\n{m.content}".lower()]

    def order(memory: Memory) -> tuple[Any, ...]:
        rank = path_rank(memory.path, wanted) if wanted else None
        return (rank or (9, 0), -memory.updated_at, memory.id)

    return sorted(rows, key=order)[:max(1, min(limit, 100))]


def path_groups(memories: list[Memory], query: str | None, type_: str,
                limit: int) -> dict[str, Any]:
    groups: dict[tuple[str | None, str], dict[str, Any]] = {}
    for memory in memories:
        if (type_ != "all" and memory.type != type_) or not matches(memory, query):
            continue
        group = groups.setdefault((memory.path, memory.type), {
            "path": memory.path, "type": memory.type, "count": 0, "updated_at": 0,
            "children": []})
        group["count"] += 1
        group["updated_at"] = max(group["updated_at"], memory.updated_at)
    paths = [path for path, _ in groups if path]
    for group in groups.values():
        if group["path"]:
            group["children"] = _children(group["path"], paths)[:20]
    ordered = sorted(groups.values(), key=lambda g: g["updated_at"], reverse=True)
    return {"paths": ordered[:max(1, min(limit, 500))], "count": len(ordered)}


def _children(path: str, paths: list[str]) -> list[str]:
    """The next level below `path` among `paths`, in order of first appearance."""
    found: list[str] = []
    for candidate in paths:
        if candidate.startswith(path + "/"):
            child = f"{path}/{candidate[len(path) + 1:].split('/', 1)[0]}"
            if child not in found:
                found.append(child)
    return found


def read_path(memories: list[Memory], path: str, type_: str, include_children: bool,
              limit: int) -> dict[str, Any]:
    wanted = clean_path(path)
    if not wanted:
        raise BadMemory("Give a memory path ('path').")
    rows = [m for m in memories if type_ == "all" or m.type == type_]
    known = {m.path for m in rows if m.path}
    steps = _parts(wanted)
    parents = [p for p in ("/".join(steps[:i]) for i in range(1, len(steps))) if p in known]
    below = [m for m in rows if m.path and m.path.startswith(wanted + "/")]
    children = sorted({f"{wanted}/{m.path[len(wanted) + 1:].split('/', 1)[0]}"
                       for m in below if m.path})

    def order(memory: Memory) -> tuple[Any, ...]:
        depth = len(_parts(memory.path))
        place = 0 if memory.path == wanted else 1 if memory in below else 2
        return (place, depth if place == 1 else -depth if place == 2 else 0,
                -memory.updated_at, memory.id)

    chosen = [m for m in rows if m.path == wanted or m.path in parents
              or (include_children and m in below)]
    return {"path": wanted, "parents": parents, "children": children[:50],
            "memories": sorted(chosen, key=order)[:max(1, min(limit, 100))]}
