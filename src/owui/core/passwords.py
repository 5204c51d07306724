"""Password hashing with Argon2id (memory-hard), through pwdlib.

The parameters are argon2-cffi's defaults, RFC 9106's second recommended choice: 64 MiB,
3 passes, 4 lanes (`$argon2id$v=19$m=65536,t=3,p=4`), ~0.2 s of one core here. The README says
why these are kept. Hashes made with other parameters are upgraded at the next sign-in.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pwdlib import PasswordHash

T = TypeVar("T")
# The hashing threads' nice value: the scheduler then gives a core to the event loop (and to
# the other services) first, and to a hash when nothing else wants it. Measured with
# bench/load.py --signin-burst 50: other routes' p99 stays low while sign-ins queue.
HASH_NICE = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    from pwdlib import PasswordHash  # at the first sign-in, not at every start

    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, hashed: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one uses outdated parameters)."""
    return _hasher().verify_and_update(password, hashed)


def _lower_priority() -> None:
    # On Linux the nice value is per thread: the event loop's thread keeps its own. Not
    # allowed, or no such call: hashing runs at normal priority.
    with suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICE)


# The hashes' lanes (p=4): argon2 runs each lane in a thread of its own, so one hash already
# keeps this many cores busy.
LANES = 4


def hashing_threads() -> int:
    return max(1, (os.cpu_count() or 1) // LANES)


def admission() -> asyncio.Semaphore:
    """What a burst of sign-ins waits on before its first database read: as many as the
    hashing pool takes, and one more whose read overlaps the running hash. Let in all at
    once, 50 sign-ins' reads and commits took the event loop for ~100 ms, in front of every
    other request (bench/load.py --signin-burst 50); waiting here costs nothing. One per
    event loop: the service's runtime makes it."""
    return asyncio.Semaphore(hashing_threads() + 1)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """One hash at a time per `LANES` cores (one on 2 cores): a hash's own lane threads
    already take every core it can, so a second hash at once only competes with the first
    (and with the event loop) and doubles the memory (64 MiB each; a burst of 200 sign-ins
    took the gateway from 100 MB to 400) for no more sign-ins a second. The others wait in
    the pool's queue, off the loop. The lane threads inherit the pool thread's nice value."""
    return ThreadPoolExecutor(hashing_threads(), thread_name_prefix="argon2",
                              initializer=_lower_priority)


async def _in_pool(call: Callable[..., T], *args: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_pool(), call, *args)


async def hash_in_thread(password: str) -> str:
    """`hash_password` off the event loop, waiting its turn in the hashing pool."""
    return await _in_pool(hash_password, password)


async def verify_in_thread(password: str, hashed: str) -> tuple[bool, str | None]:
    """`verify_password` off the event loop, waiting its turn in the hashing pool."""
    return await _in_pool(verify_password, password, hashed)
