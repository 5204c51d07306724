"""Who else may open a chat's share link or a folder: Open WebUI's access grants.

A grant names a principal (a user id, `*` for every signed-in user, or a group id) and a
permission (read or write) on a resource: `shared_chat` (keyed by the chat's id, as Open WebUI
keys it) or `folder`. Group membership comes from the gateway's signed access header
(core.access). An `anyone` grant (Open WebUI's no-sign-in link) is kept as given; owui asks every
reader to sign in, so it reads as every signed-in user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from owui.chat.models import AccessGrant, new_id, now
from owui.core.access import ANYONE, Access, parse_grants

SHARED_CHAT = "shared_chat"
FOLDER = "folder"
ANYONE_TYPE = "anyone"
# What the share link of a chat shows before its owner chooses: every signed-in user (as owui's
# links always have), written out so that the share dialog shows it and the owner can narrow it.
DEFAULT_SHARE_GRANTS = ({"principal_type": "user", "principal_id": ANYONE, "permission": "read"},)


def _is_anyone(grant: object) -> bool:
    return isinstance(grant, dict) and grant.get("principal_type") == ANYONE_TYPE


def parse(raw: object) -> list[dict[str, str]]:
    """core.access.parse_grants, plus Open WebUI's `anyone:*` read grant (a 400 otherwise)."""
    anyone = isinstance(raw, list) and any(_is_anyone(g) for g in raw)
    grants = parse_grants([g for g in raw if not _is_anyone(g)] if isinstance(raw, list)
                          else raw)
    if anyone:
        grants.append({"principal_type": ANYONE_TYPE, "principal_id": ANYONE,
                       "permission": "read"})
    return grants


async def set_grants(session: AsyncSession, resource_type: str, resource_id: str,
                     grants: Iterable[Mapping[str, str]]) -> None:
    """Replace the resource's grants (in the caller's transaction)."""
    await session.execute(delete(AccessGrant).where(AccessGrant.resource_type == resource_type,
                                                    AccessGrant.resource_id == resource_id))
    stamp = now()
    for grant in grants:
        session.add(AccessGrant(id=grant.get("id") or new_id(), resource_type=resource_type,
                                resource_id=resource_id, principal_type=grant["principal_type"],
                                principal_id=grant["principal_id"],
                                permission=grant["permission"], created_at=stamp))


async def drop(session: AsyncSession, resource_type: str, resource_ids: Sequence[str]) -> None:
    if resource_ids:
        await session.execute(delete(AccessGrant).where(
            AccessGrant.resource_type == resource_type,
            AccessGrant.resource_id.in_(list(resource_ids))))


async def grants_of(session: AsyncSession, resource_type: str, resource_id: str
                    ) -> list[dict[str, Any]]:
    """Open WebUI's grant items: id, principal_type, principal_id, permission."""
    rows = await session.scalars(select(AccessGrant).where(
        AccessGrant.resource_type == resource_type, AccessGrant.resource_id == resource_id)
        .order_by(AccessGrant.created_at, AccessGrant.id))
    return [{"id": g.id, "principal_type": g.principal_type, "principal_id": g.principal_id,
             "permission": g.permission} for g in rows]


def _principal(access: Access) -> Any:
    """SQL: a grant naming this caller (directly, as everyone, or through a group)."""
    matches = [AccessGrant.principal_type == ANYONE_TYPE,
               (AccessGrant.principal_type == "user")
               & AccessGrant.principal_id.in_([ANYONE, access.user_id])]
    if access.groups:
        matches.append((AccessGrant.principal_type == "group")
                       & AccessGrant.principal_id.in_(sorted(access.groups)))
    return or_(*matches)


def _permissions(permission: str) -> list[str]:
    return ["write"] if permission == "write" else ["read", "write"]


async def granted(session: AsyncSession, resource_type: str, resource_id: str, access: Access,
                  permission: str = "read") -> bool:
    """Does a grant give the caller `permission` (a write grant reads too)?"""
    found = await session.scalar(select(AccessGrant.id).where(
        AccessGrant.resource_type == resource_type, AccessGrant.resource_id == resource_id,
        AccessGrant.permission.in_(_permissions(permission)), _principal(access)).limit(1))
    return found is not None


async def names(session: AsyncSession, resource_type: str, resource_id: str,
                access: Access) -> bool:
    """Does a grant name the caller: their own id, or a group of theirs (not the grants to
    every signed-in user or to anyone)? Open WebUI's "Allow replies" is for those."""
    matches = [(AccessGrant.principal_type == "user")
               & (AccessGrant.principal_id == access.user_id)]
    if access.groups:
        matches.append((AccessGrant.principal_type == "group")
                       & AccessGrant.principal_id.in_(sorted(access.groups)))
    found = await session.scalar(select(AccessGrant.id).where(
        AccessGrant.resource_type == resource_type, AccessGrant.resource_id == resource_id,
        or_(*matches)).limit(1))
    return found is not None


async def granted_ids(session: AsyncSession, resource_type: str, access: Access,
                      permission: str = "read") -> list[str]:
    """The resources of a type that grants open to the caller."""
    rows = await session.scalars(select(AccessGrant.resource_id).distinct().where(
        AccessGrant.resource_type == resource_type,
        AccessGrant.permission.in_(_permissions(permission)), _principal(access)))
    return list(rows)


def writable(grants: Iterable[Mapping[str, Any]], access: Access) -> bool:
    """Does one of these grant items give the caller write?"""
    for grant in grants:
        if grant.get("permission") != "write":
            continue
        kind, principal = grant.get("principal_type"), grant.get("principal_id")
        if (kind == "user" and principal in (ANYONE, access.user_id)) or \
                (kind == "group" and principal in access.groups):
            return True
    return False
