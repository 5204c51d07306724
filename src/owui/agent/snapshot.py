"""A value read from the database at most once a TTL: what every run needs (the active
functions, the tools models enable). Changes made through this replica are seen at once
(`invalidate`), other replicas' within the TTL."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class Snapshot(Generic[T]):
    TTL = 1.0

    def __init__(self, load: Callable[[AsyncSession], Awaitable[T]]) -> None:
        self._load = load
        self._value: T | None = None
        self._read_at = 0.0

    async def get(self, session: AsyncSession) -> T:
        if self._value is None or time.monotonic() - self._read_at > self.TTL:
            self._value = await self._load(session)
            self._read_at = time.monotonic()
        return self._value

    def invalidate(self) -> None:
        self._value = None
