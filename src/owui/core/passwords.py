"""Password hashing with Argon2id (memory-hard), through pwdlib."""

from __future__ import annotations

import os
from functools import lru_cache

import anyio
from pwdlib import PasswordHash


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, hashed: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one uses outdated parameters)."""
    return _hasher().verify_and_update(password, hashed)


@lru_cache(maxsize=1)
def _slots() -> anyio.CapacityLimiter:
    """One hash at a time per core: each takes a core and 64 MiB for a tenth of a second, so
    more at once only multiply the memory (a burst of 200 sign-ins took the gateway from
    100 MB to 400) and finish no sooner. Made per process, in its event loop."""
    return anyio.CapacityLimiter(max(1, os.cpu_count() or 1))


async def hash_in_thread(password: str) -> str:
    """`hash_password` off the event loop, waiting its turn for a slot."""
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_slots())


async def verify_in_thread(password: str, hashed: str) -> tuple[bool, str | None]:
    """`verify_password` off the event loop, waiting its turn for a slot."""
    return await anyio.to_thread.run_sync(verify_password, password, hashed, limiter=_slots())
