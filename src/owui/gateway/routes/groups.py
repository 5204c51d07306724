"""`/api/v1/groups`: groups of users and their permissions (admin), and a user's own groups.

Every write tells the access state (gateway/access_state.py): members' signed access headers
change on this replica at once and on every other within about a second."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.auth import AdminUser, CurrentUser
from owui.core.service import Session
from owui.gateway import groups
from owui.gateway.access_state import ancestors
from owui.gateway.models import Group
from owui.gateway.runtime import runtime_of
from owui.gateway.schemas import (
    GroupExportResponse,
    GroupForm,
    GroupInfoResponse,
    GroupMemberInfo,
    GroupMembersResponse,
    GroupResponse,
    UserIdsForm,
    UserInfoResponse,
)
from owui.gateway.users_view import group_response, user_info

router = APIRouter(prefix="/api/v1/groups", tags=["groups"])
PAGE_SIZE = 30


async def _answer(session: Session, group: Group) -> GroupResponse:
    counts = await groups.member_counts(session, [group.id])
    return group_response(group, counts.get(group.id, 0))


async def _changed(request: Request) -> None:
    await runtime_of(request).admin.access.changed()


@router.get("/", response_model=list[GroupResponse])
async def list_groups(session: Session, user: CurrentUser,
                      share: bool | None = None) -> list[GroupResponse]:
    """Every group for an admin (to share with any); a user's own groups otherwise."""
    found = await groups.list_all(session, None if user.is_admin else user.sub)
    counts = await groups.member_counts(session, [g.id for g in found])
    return [group_response(g, counts.get(g.id, 0)) for g in found]


@router.post("/create", response_model=GroupResponse)
async def create_group(form: GroupForm, request: Request, session: Session,
                       admin: AdminUser) -> GroupResponse:
    group = await groups.create(session, admin.sub, form)
    await _changed(request)
    return group_response(group, 0)


@router.get("/id/{group_id}", response_model=GroupResponse)
async def get_group(group_id: str, session: Session, _admin: AdminUser) -> GroupResponse:
    return await _answer(session, await groups.get(session, group_id))


@router.get("/id/{group_id}/info", response_model=GroupInfoResponse)
async def get_group_info(group_id: str, session: Session,
                         _user: CurrentUser) -> GroupInfoResponse:
    """Name and size, for any signed-in user (the web app shows whom a resource is shared
    with)."""
    answer = await _answer(session, await groups.get(session, group_id))
    return GroupInfoResponse(**answer.model_dump(exclude={"data", "meta", "permissions"}))


@router.get("/id/{group_id}/export", response_model=GroupExportResponse)
async def export_group(group_id: str, session: Session,
                       _admin: AdminUser) -> GroupExportResponse:
    group = await groups.get(session, group_id)
    answer = await _answer(session, group)
    return GroupExportResponse(**answer.model_dump(),
                               user_ids=await groups.member_ids(session, group.id))


@router.post("/id/{group_id}/users", response_model=list[UserInfoResponse])
async def get_group_users(group_id: str, session: Session,
                          _admin: AdminUser) -> list[UserInfoResponse]:
    group = await groups.get(session, group_id)
    users, _total = await groups.users_page(session, await groups.member_ids(session, group.id),
                                            "", 1, 1_000_000)
    return [user_info(u) for u in users]


@router.get("/id/{group_id}/members", response_model=GroupMembersResponse)
async def group_members(
    group_id: str, request: Request, session: Session, _admin: AdminUser,
    membership: Literal["direct", "inherited", "effective"] = "effective",
    query: str = Query("", max_length=200), page: int = Query(1, ge=1, le=1_000_000),
) -> GroupMembersResponse:
    """Members directly in the group, through a group below it, or both."""
    group = await groups.get(session, group_id)
    access = runtime_of(request).admin.access
    direct = set(await groups.member_ids(session, group.id))
    effective = access.members_of(group.id) | direct
    chosen = {"direct": direct, "inherited": effective - direct, "effective": effective}
    users, total = await groups.users_page(session, sorted(chosen[membership]), query, page,
                                           PAGE_SIZE)
    parents = {g.id: g.parent_group_id for g in await groups.list_all(session)}
    items = []
    for user in users:
        via = sorted(g for g in access.direct_groups(user.id)
                     if g != group.id and group.id in ancestors(g, parents))
        items.append(GroupMemberInfo(**user_info(user).model_dump(),
                                     membership_type="direct" if user.id in direct
                                     else "inherited", via_group_ids=via))
    return GroupMembersResponse(items=items, total=total, counts={
        "direct": len(direct), "effective": len(effective),
        "inherited": len(effective - direct)})


@router.post("/id/{group_id}/update", response_model=GroupResponse)
async def update_group(group_id: str, form: GroupForm, request: Request, session: Session,
                       _admin: AdminUser) -> GroupResponse:
    group = await groups.update_group(session, await groups.get(session, group_id), form)
    await _changed(request)
    return await _answer(session, group)


MembersChange = Callable[[AsyncSession, Group, Sequence[str]], Awaitable[None]]


async def _members(group_id: str, form: UserIdsForm, request: Request, session: Session,
                   change: MembersChange) -> GroupResponse:
    group = await groups.get(session, group_id)
    await change(session, group, form.user_ids or [])
    await _changed(request)
    return await _answer(session, group)


@router.post("/id/{group_id}/users/add", response_model=GroupResponse)
async def add_users(group_id: str, form: UserIdsForm, request: Request, session: Session,
                    _admin: AdminUser) -> GroupResponse:
    """Every id must name a user (else 400, and none is added)."""
    return await _members(group_id, form, request, session, groups.add_members)


@router.post("/id/{group_id}/users/remove", response_model=GroupResponse)
async def remove_users(group_id: str, form: UserIdsForm, request: Request, session: Session,
                       _admin: AdminUser) -> GroupResponse:
    return await _members(group_id, form, request, session, groups.remove_members)


@router.delete("/id/{group_id}/delete")
async def delete_group(group_id: str, request: Request, session: Session,
                       _admin: AdminUser) -> bool:
    await groups.delete_group(session, await groups.get(session, group_id))
    await _changed(request)
    return True
