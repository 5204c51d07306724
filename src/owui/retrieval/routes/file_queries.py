"""Open WebUI's file queries at fixed paths (`/files/search`, `/files/count`, their `/user/`
forms) and the admin's delete-all. Included before files.py's router, so that `search` or
`count` is never looked up as a file id."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.auth import AdminUser, CurrentUser
from owui.core.errors import not_found_response
from owui.core.service import Session
from owui.retrieval.groups import GROUPS
from owui.retrieval.models import File
from owui.retrieval.routes.common import delete_file
from owui.retrieval.runtime import RuntimeDep
from owui.retrieval.schemas import file_view

router = APIRouter(prefix="/api/v1/files", tags=["files"], dependencies=GROUPS)
Pattern = Annotated[str, Query(min_length=1, max_length=255,
                               description="Filename pattern; '*' and '?' are wildcards")]


def like_of(pattern: str) -> str:
    """A glob ('*.txt') as an SQL LIKE pattern, other characters taken literally."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


async def _search(session: AsyncSession, user_id: str | None, pattern: str, content: bool,
                  skip: int, limit: int) -> list[dict[str, Any]]:
    query = select(File).where(File.filename.ilike(like_of(pattern), escape="\\"))
    if user_id is not None:
        query = query.where(File.user_id == user_id)
    query = query.order_by(File.created_at.desc(), File.id).offset(skip).limit(limit)
    return [file_view(f, content=content) for f in (await session.scalars(query)).all()]


async def _count(session: AsyncSession, user_id: str | None) -> int:
    query = select(func.count()).select_from(File)
    if user_id is not None:
        query = query.where(File.user_id == user_id)
    return (await session.execute(query)).scalar_one()


@router.get("/search", responses=not_found_response("No file matches the pattern."))
async def search_files(user: CurrentUser, session: Session, filename: Pattern,
                       content: bool = True,
                       skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                       ) -> list[dict[str, Any]]:
    """Every file for an admin, else the caller's; 404 when none matches (as Open WebUI)."""
    found = await _search(session, None if user.is_admin else user.sub, filename, content,
                          skip, limit)
    if not found:
        raise HTTPException(404, "No files found matching the pattern.")
    return found


@router.get("/user/search")
async def search_user_files(user: CurrentUser, session: Session, filename: Pattern = "*",
                            content: bool = False,
                            skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                            limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                            ) -> list[dict[str, Any]]:
    return await _search(session, user.sub, filename, content, skip, limit)


@router.get("/count")
async def count_files(user: CurrentUser, session: Session) -> int:
    return await _count(session, None if user.is_admin else user.sub)


@router.get("/user/count")
async def count_user_files(user: CurrentUser, session: Session) -> int:
    return await _count(session, user.sub)


@router.delete("/all")
async def delete_all_files(user: AdminUser, session: Session,
                           rt: RuntimeDep) -> dict[str, str]:
    """Admin only: every user's files, their bytes and vectors (collections stay, empty)."""
    for file in (await session.scalars(select(File))).all():
        await delete_file(rt, session, file)
    return {"message": "All files deleted successfully"}
