"""Child processes that cannot outlive `owui up`: own session, parent-death signal, group kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Protocol

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
LINE_LIMIT = 1 << 20  # a log line longer than this is dropped rather than stalling the reader


class ServiceProcess(Protocol):
    """A running service, started as a subprocess or forked by the fork server."""

    pid: int
    returncode: int | None
    stdout: asyncio.StreamReader | None

    async def wait(self) -> int: ...


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGTERM the child when its parent dies, so that even a
    SIGKILLed supervisor, which gets no chance to clean up, leaves no service running."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: dlopen after fork may lock
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have died between fork and prctl; then no signal would ever come.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


async def spawn(argv: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    # A session of its own keeps a terminal's Ctrl-C (sent to the foreground process group)
    # from reaching the services directly: the supervisor alone decides how they stop.
    return await asyncio.create_subprocess_exec(
        *argv, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        preexec_fn=_die_with_parent(), limit=LINE_LIMIT)


def signal_group(process: ServiceProcess, sig: signal.Signals) -> None:
    """Signal the child's whole process group, so anything the service started goes too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


async def terminate(process: ServiceProcess, grace: float,
                    hurry: asyncio.Event | None = None) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds (or at once when `hurry` is set)."""
    if process.returncode is None:
        signal_group(process, signal.SIGTERM)
        waits = {asyncio.ensure_future(process.wait())}
        if hurry is not None:
            waits.add(asyncio.ensure_future(hurry.wait()))
        _, pending = await asyncio.wait(waits, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
    if process.returncode is None:
        signal_group(process, signal.SIGKILL)
        await process.wait()
    # The leader is gone; sweep whatever it left in its group.
    signal_group(process, signal.SIGKILL)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
