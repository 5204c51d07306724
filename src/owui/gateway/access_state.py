"""Who is in which group, and the signed `X-Owui-Access` header of each user (core/access.py).

The groups and memberships are held in memory, read whole from the database at start and again
whenever any replica changes them: a write bumps the live setting ACCESS_VERSION, which every
replica's live config sees within its refresh interval (about a second) and answers by reloading.
The default permissions are a live setting too. A user's header is signed on first use and kept
until the groups or permissions change, or until it is half its lifetime old.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core.access import RESIGN_AFTER_SECONDS, effective_permissions, sign_access
from owui.core.background import cancel_and_wait, every
from owui.core.live_config import LiveConfig
from owui.gateway.live import ACCESS_VERSION, USER_PERMISSIONS
from owui.gateway.models import Group, GroupMember

log = logging.getLogger("owui.gateway.access")
# Signed headers kept; past this many users the cache starts again (a header costs ~20 µs).
MAX_CACHED = 100_000
CATCH_UP_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class _Snapshot:
    parents: dict[str, str | None]
    permissions: dict[str, dict[str, Any] | None]
    direct: dict[str, frozenset[str]]  # user id -> the groups they were added to
    version: str


def ancestors(group_id: str, parents: dict[str, str | None]) -> list[str]:
    """The group and every group above it (a member of a group is a member of its parents)."""
    chain: list[str] = []
    current: str | None = group_id
    while current is not None and current in parents and current not in chain:
        chain.append(current)
        current = parents[current]
    return chain


class AccessState:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], live: LiveConfig,
                 secret: str) -> None:
        self.sessions = sessions
        self.live = live
        self.secret = secret
        self._snapshot = _Snapshot({}, {}, {}, "")
        self._signed: dict[str, tuple[str, float, int]] = {}
        self._generation = 0
        self._lock = asyncio.Lock()
        self._reload: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._pending = ""
        live.on_change(self._settings_changed)

    # ------------------------------------------------------------ reading

    def groups_of(self, user_id: str) -> frozenset[str]:
        """Every group the user is in, directly or through a child group."""
        snapshot = self._snapshot
        found: set[str] = set()
        for group_id in snapshot.direct.get(user_id, ()):
            found.update(ancestors(group_id, snapshot.parents))
        return frozenset(found)

    def direct_groups(self, user_id: str) -> frozenset[str]:
        return self._snapshot.direct.get(user_id, frozenset())

    def members_of(self, group_id: str) -> set[str]:
        """Users in the group directly or through a group below it."""
        snapshot = self._snapshot
        return {user_id for user_id, groups in snapshot.direct.items()
                if any(group_id in ancestors(g, snapshot.parents) for g in groups)}

    def permissions_for(self, user_id: str) -> dict[str, Any]:
        snapshot = self._snapshot
        return effective_permissions(self.live[USER_PERMISSIONS],
                                     (snapshot.permissions.get(g)
                                      for g in sorted(self.groups_of(user_id))))

    def header_for(self, user_id: str) -> str:
        """The user's signed access header (the proxy adds it to every forwarded request)."""
        now = time.time()
        cached = self._signed.get(user_id)
        if cached is not None and cached[2] == self._generation \
                and now - cached[1] < RESIGN_AFTER_SECONDS:
            return cached[0]
        value = sign_access(self.secret, user_id, self.groups_of(user_id),
                            self.permissions_for(user_id), now=now)
        if len(self._signed) >= MAX_CACHED:
            self._signed.clear()
        self._signed[user_id] = (value, now, self._generation)
        return value

    # ------------------------------------------------------------ changing

    async def changed(self) -> None:
        """After a write to groups or memberships: every replica reloads; this one at once.
        The version is written before this replica reads: of two replicas changing groups at
        once, the one whose version is stored last read after both changes were committed,
        and the other sees that version and reads again."""
        version = self._pending = uuid.uuid4().hex
        await self.live.update({ACCESS_VERSION: version})
        await self.load(version)

    async def load(self, version: str | None = None) -> None:
        async with self._lock:
            # Read before the rows: a change stored meanwhile is then seen as newer.
            version = self.live[ACCESS_VERSION] if version is None else version
            async with self.sessions() as session:
                groups = list(await session.scalars(select(Group)))
                members = (await session.execute(
                    select(GroupMember.user_id, GroupMember.group_id))).all()
            direct: dict[str, set[str]] = {}
            for user_id, group_id in members:
                direct.setdefault(user_id, set()).add(group_id)
            self._snapshot = _Snapshot(
                {g.id: g.parent_group_id for g in groups},
                {g.id: g.permissions for g in groups},
                {user_id: frozenset(ids) for user_id, ids in direct.items()}, version)
            self._invalidate()

    def _invalidate(self) -> None:
        self._generation += 1
        self._signed.clear()

    def _settings_changed(self, keys: Iterable[str]) -> None:
        keys = set(keys)
        if USER_PERMISSIONS in keys:
            self._invalidate()
        if ACCESS_VERSION in keys:
            self._catch_up()

    def _catch_up(self) -> None:
        """Reload when the stored version is neither what we hold nor what we are loading
        (also run every few seconds: a reload that failed is tried again)."""
        version = self.live[ACCESS_VERSION]
        if version in (self._snapshot.version, self._pending):
            return
        if self._reload is None or self._reload.done():
            self._reload = asyncio.get_running_loop().create_task(self._reload_logged())

    async def _reload_logged(self) -> None:
        try:
            await self.load()
        except Exception:  # the next change, or the next start, loads again
            log.exception("reloading groups failed")

    async def start(self) -> None:
        await self.load()
        self._watch = every(CATCH_UP_SECONDS, self._check, name="access catch-up")

    async def _check(self) -> None:
        self._catch_up()

    async def stop(self) -> None:
        await cancel_and_wait(self._watch)
        await cancel_and_wait(self._reload)
