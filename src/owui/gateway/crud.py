"""Reads and writes of users, API keys and revocations."""

from __future__ import annotations

import hashlib
import secrets
import time
import zlib
from collections.abc import Collection

from sqlalchemy import case, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from owui.core.config import Role
from owui.gateway.models import ApiKey, Group, Revocation, User

# Serialises sign-ups on PostgreSQL while the first account is decided.
FIRST_ACCOUNT_LOCK = zlib.crc32(b"owui-gateway-first-account")

API_KEY_PREFIX = "sk-"


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def any_user(session: AsyncSession) -> bool:
    return await session.scalar(select(User.id).limit(1)) is not None


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def create_user(session: AsyncSession, *, name: str, email: str, password_hash: str,
                      role: Role, profile_image_url: str | None = None) -> User:
    """Insert a user; the first account of all becomes admin, whatever role was asked.

    "First" is decided inside the inserting transaction, serialised with other sign-ups (SQLite
    has one writer; PostgreSQL takes a transaction-scoped advisory lock): comparing creation
    times after committing let two racing sign-ups each find itself earliest."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                              {"key": FIRST_ACCOUNT_LOCK})
    user = User(name=name.strip(), email=normalize_email(email), role=role,
                password_hash=password_hash, profile_image_url=profile_image_url or "/user.png")
    session.add(user)
    await session.flush()
    others = await session.scalar(select(func.count()).select_from(User)
                                  .where(User.id != user.id))
    if not others:
        user.role = "admin"
    await session.commit()
    return user


async def list_users(session: AsyncSession, *, query: str | None, order_by: str,
                     descending: bool, page: int, per_page: int,
                     first_ids: Collection[str] = ()) -> tuple[list[User], int]:
    """A page of users; those of `first_ids` (a group's members) before the others."""
    statement = select(User)
    if query:
        pattern = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(User.name).like(pattern),
                                        User.email.like(pattern)))
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    column = getattr(User, order_by)
    order = [case((User.id.in_(list(first_ids)), 0), else_=1)] if first_ids else []
    statement = statement.order_by(*order, column.desc() if descending else column, User.id)
    rows = await session.scalars(statement.offset((page - 1) * per_page).limit(per_page))
    return list(rows), int(total or 0)


async def count_admins(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(User.role == "admin")) or 0)


def hash_api_key(key: str) -> str:
    # API keys carry 256 random bits: a fast hash is safe and keeps each request cheap.
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(session: AsyncSession, user_id: str, name: str) -> tuple[ApiKey, str]:
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(user_id=user_id, name=name, key_hash=hash_api_key(key), prefix=key[:10])
    session.add(row)
    await session.commit()
    return row, key


async def list_api_keys(session: AsyncSession, user_id: str) -> list[ApiKey]:
    rows = await session.scalars(select(ApiKey).where(ApiKey.user_id == user_id)
                                 .order_by(ApiKey.created_at, ApiKey.id))
    return list(rows)


async def find_api_key(session: AsyncSession, key: str) -> tuple[ApiKey, User] | None:
    row = (await session.execute(
        select(ApiKey, User).join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_hash == hash_api_key(key))
    )).first()
    return (row[0], row[1]) if row else None


async def delete_api_keys(session: AsyncSession, user_id: str, *, key_id: str | None = None,
                          name: str | None = None) -> list[str]:
    """Delete a user's keys (one by id, all by name, or all); returns the ids deleted."""
    statement = select(ApiKey.id).where(ApiKey.user_id == user_id)
    if key_id is not None:
        statement = statement.where(ApiKey.id == key_id)
    if name is not None:
        statement = statement.where(ApiKey.name == name)
    ids = list(await session.scalars(statement))
    if ids:
        await session.execute(delete(ApiKey).where(ApiKey.id.in_(ids)))
    return ids


async def add_revocation(session: AsyncSession, kind: str, subject: str, *, expires_at: float,
                         issued_before: float | None = None) -> Revocation:
    row = Revocation(kind=kind, subject=subject, issued_before=issued_before,
                     expires_at=expires_at, created_at=time.time())
    session.add(row)
    return row


async def revocations_since(session: AsyncSession, since: float) -> list[Revocation]:
    rows = await session.scalars(select(Revocation).where(Revocation.created_at >= since,
                                                          Revocation.expires_at > time.time()))
    return list(rows)


async def prune_revocations(session: AsyncSession) -> None:
    await session.execute(delete(Revocation).where(Revocation.expires_at <= time.time()))
    await session.commit()


async def get_group(session: AsyncSession, group_id: str) -> Group | None:
    return await session.get(Group, group_id)


async def first_admin(session: AsyncSession) -> User | None:
    return await session.scalar(select(User).where(User.role == "admin")
                                .order_by(User.created_at).limit(1))
