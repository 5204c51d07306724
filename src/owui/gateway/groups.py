"""Groups and their members: reads and writes, each write checked whole before anything is
stored (an unknown member, an unknown parent or a loop of parents is a 400 that stores nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.db import now_epoch
from owui.core.errors import BadRequestError, NotFoundError
from owui.gateway.access_state import ancestors
from owui.gateway.models import Group, GroupMember, User
from owui.gateway.schemas import GroupForm


class UnknownUsers(BadRequestError):
    def __init__(self, ids: Sequence[str]) -> None:
        shown = ", ".join(repr(i) for i in list(ids)[:10])
        super().__init__(f"No such user(s): {shown}; nothing was changed.")


async def get(session: AsyncSession, group_id: str) -> Group:
    group = await session.get(Group, group_id)
    if group is None:
        raise NotFoundError(f"No group {group_id!r}.")
    return group


async def list_all(session: AsyncSession, member_id: str | None = None) -> list[Group]:
    statement = select(Group).order_by(Group.updated_at.desc(), Group.id)
    if member_id is not None:
        statement = statement.where(Group.id.in_(
            select(GroupMember.group_id).where(GroupMember.user_id == member_id)))
    return list(await session.scalars(statement))


async def member_counts(session: AsyncSession, group_ids: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(
        select(GroupMember.group_id, func.count()).where(GroupMember.group_id.in_(group_ids))
        .group_by(GroupMember.group_id))
    return {group_id: int(count) for group_id, count in rows.all()}


async def member_ids(session: AsyncSession, group_id: str) -> list[str]:
    rows = await session.scalars(select(GroupMember.user_id)
                                 .where(GroupMember.group_id == group_id)
                                 .order_by(GroupMember.created_at, GroupMember.user_id))
    return list(rows)


async def _check_parent(session: AsyncSession, group_id: str | None,
                        parent_id: str | None) -> None:
    if parent_id is None:
        return
    if parent_id == group_id:
        raise BadRequestError("A group cannot be its own parent.")
    if await session.get(Group, parent_id) is None:
        raise BadRequestError(f"No group {parent_id!r} to be the parent.")
    if group_id is None:
        return
    parents = dict((await session.execute(select(Group.id, Group.parent_group_id))).all())
    if group_id in ancestors(parent_id, parents):
        raise BadRequestError("That parent is below this group: groups may not form a loop.")


async def create(session: AsyncSession, creator_id: str, form: GroupForm) -> Group:
    await _check_parent(session, None, form.parent_group_id)
    group = Group(user_id=creator_id, name=form.name.strip(), description=form.description,
                  parent_group_id=form.parent_group_id, permissions=form.permissions,
                  data=form.data, meta=None)
    session.add(group)
    await session.commit()
    return group


async def update_group(session: AsyncSession, group: Group, form: GroupForm) -> Group:
    await _check_parent(session, group.id, form.parent_group_id)
    group.name, group.description = form.name.strip(), form.description
    group.parent_group_id = form.parent_group_id
    if form.permissions is not None:
        group.permissions = form.permissions
    if form.data is not None:
        group.data = form.data
    await session.commit()
    return group


async def add_members(session: AsyncSession, group: Group, user_ids: Sequence[str]) -> None:
    wanted = list(dict.fromkeys(user_ids))
    known = set(await session.scalars(select(User.id).where(User.id.in_(wanted))))
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise UnknownUsers(unknown)
    present = set(await member_ids(session, group.id))
    session.add_all(GroupMember(group_id=group.id, user_id=i) for i in wanted
                    if i not in present)
    group.updated_at = now_epoch()
    await session.commit()


async def remove_members(session: AsyncSession, group: Group, user_ids: Sequence[str]) -> None:
    await session.execute(delete(GroupMember).where(GroupMember.group_id == group.id,
                                                    GroupMember.user_id.in_(list(user_ids))))
    group.updated_at = now_epoch()
    await session.commit()


async def delete_group(session: AsyncSession, group: Group) -> None:
    """Its child groups move up to its parent (as Open WebUI promotes them)."""
    await session.execute(update(Group).where(Group.parent_group_id == group.id)
                          .values(parent_group_id=group.parent_group_id))
    await session.delete(group)
    await session.commit()


async def users_page(session: AsyncSession, ids: Sequence[str], query: str, page: int,
                     per_page: int) -> tuple[list[User], int]:
    statement = select(User).where(User.id.in_(list(ids)))
    if query:
        pattern = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(User.name).like(pattern),
                                        User.email.like(pattern)))
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await session.scalars(statement.order_by(User.name, User.id)
                                 .offset((page - 1) * per_page).limit(per_page))
    return list(rows), int(total or 0)
