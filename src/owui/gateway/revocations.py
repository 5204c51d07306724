"""Revoked tokens, held in memory for a check in microseconds, synced through the database.

Every replica writes its revocations to the gateway's database and reads the others' every
`REVOCATION_SYNC_INTERVAL` seconds; a revocation made on this replica applies here at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core.background import cancel_and_wait, every
from owui.core.tokens import Claims
from owui.gateway import crud
from owui.gateway.models import Revocation

log = logging.getLogger("owui.gateway.revocations")
# Rows committed by another replica may carry a slightly older timestamp than the last sync.
_OVERLAP = 10.0


class Revocations:
    """`on_change` is called after every sync and every revocation made here (the gateway
    closes the sockets of revoked tokens with it)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], interval: float,
                 on_change: Callable[[Revocations], object] = lambda _: None) -> None:
        self.sessions = sessions
        self.interval = interval
        self.on_change = on_change
        self.jtis: dict[str, float] = {}
        self.user_cutoffs: dict[str, float] = {}
        self.api_keys: dict[str, float] = {}
        self._synced_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def is_revoked(self, claims: Claims) -> bool:
        return claims.jti in self.jtis or claims.iat < self.user_cutoffs.get(claims.sub, 0.0)

    def is_key_revoked(self, key_id: str, user_id: str, minted_at: float) -> bool:
        return key_id in self.api_keys or minted_at < self.user_cutoffs.get(user_id, 0.0)

    def apply(self, row: Revocation) -> None:
        if row.kind == "jti":
            self.jtis[row.subject] = row.expires_at
        elif row.kind == "user":
            cutoff = row.issued_before or 0.0
            if cutoff > self.user_cutoffs.get(row.subject, 0.0):
                self.user_cutoffs[row.subject] = cutoff
        elif row.kind == "api_key":
            self.api_keys[row.subject] = row.expires_at

    async def revoke(self, session: AsyncSession, kind: str, subject: str, *,
                     expires_at: float, issued_before: float | None = None) -> None:
        """Record a revocation in the caller's transaction and apply it here at once."""
        row = await crud.add_revocation(session, kind, subject, expires_at=expires_at,
                                        issued_before=issued_before)
        await session.commit()
        self.apply(row)
        self.on_change(self)

    async def sync(self) -> None:
        started = time.time()
        async with self.sessions() as session:
            rows = await crud.revocations_since(session, self._synced_at - _OVERLAP)
        for row in rows:
            self.apply(row)
        self._synced_at = started
        self._prune(started)
        self.on_change(self)

    def _prune(self, now: float) -> None:
        for table in (self.jtis, self.api_keys):
            for key in [k for k, exp in table.items() if exp <= now]:
                del table[key]

    async def start(self) -> None:
        async with self.sessions() as session:
            await crud.prune_revocations(session)
        await self.sync()
        # A database hiccup is logged by `every` and does not stop future syncs.
        self._task = every(self.interval, self.sync, name="revocation sync")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
