"""One kernel process: start it, send it code, read its reply, kill it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from owui.agent.sandbox.launch import Limits, bare_command, bwrap_command, clean_env
from owui.core.background import cancel_and_wait

START_TIMEOUT = 30.0
REPLY_LIMIT = 256 * 1024 * 1024  # a reply carries the output and any figures


class KernelDied(RuntimeError):
    """The kernel process ended or broke its protocol; the message says how."""


class ExecutionTimeout(RuntimeError):
    """The code ran past its wall-clock limit; the kernel was killed."""


class Kernel:
    def __init__(self, key: tuple[str, str], workspace: Path, slot: int) -> None:
        self.key = key
        self.workspace = workspace
        self.slot = slot
        self.process: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()
        self.last_used = time.monotonic()
        self.created_at = time.time()
        self.executions = 0
        self.ready: asyncio.Task[None] | None = None  # the start, while and once it runs
        self._ids = itertools.count(1)

    @property
    def busy(self) -> bool:
        return self.lock.locked()

    @property
    def starting(self) -> bool:
        return self.ready is not None and not self.ready.done()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def ended(self) -> bool:
        """Started once, and its process is gone (not: still starting)."""
        return self.ready is not None and self.ready.done() and not self.alive

    async def start(self, sandbox: str, uid: int | None, limits: Limits) -> None:
        self.workspace.mkdir(parents=True, exist_ok=True)
        if sandbox == "bwrap":
            if uid is not None:
                os.chown(self.workspace, uid, uid)
            os.chmod(self.workspace, 0o700)
            args, env, cwd = bwrap_command(self.workspace, uid, limits, limits.file_size), \
                {"PATH": "/usr/bin:/bin"}, None
        else:
            tmp = self.workspace / ".tmp"
            tmp.mkdir(exist_ok=True)
            args, env = bare_command(limits), clean_env(str(self.workspace), str(tmp))
            cwd = str(self.workspace)
        self.process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=cwd, start_new_session=True,
            limit=REPLY_LIMIT)
        try:
            ready = await asyncio.wait_for(self._read_line(), START_TIMEOUT)
        except (TimeoutError, KernelDied):
            await self.kill()
            raise KernelDied(f"The code sandbox did not start: {await self._stderr()}") from None
        if not ready.get("ready"):
            await self.kill()
            raise KernelDied("The code sandbox did not start: unexpected greeting.")

    async def execute(self, code: str, seconds: float) -> dict[str, Any]:
        """Run code; the caller holds `lock`. On timeout the kernel is killed."""
        assert self.process is not None and self.process.stdin is not None
        request = {"id": next(self._ids), "code": code}
        self.executions += 1
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            await self.process.stdin.drain()
            reply = await asyncio.wait_for(self._read_line(), seconds)
        except TimeoutError:
            await self.kill()
            raise ExecutionTimeout(f"The code ran past its {seconds:g} s limit and was "
                                   "stopped; the session's state is lost.") from None
        except (BrokenPipeError, ConnectionResetError):
            await self.kill()
            raise KernelDied(await self._death()) from None
        finally:
            self.last_used = time.monotonic()
        if reply.get("id") != request["id"]:
            await self.kill()
            raise KernelDied("The session's kernel answered out of turn and was stopped.")
        return reply

    async def _read_line(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        try:
            line = await self.process.stdout.readline()
        except (asyncio.LimitOverrunError, ValueError):
            raise KernelDied("The session's kernel sent a reply over the size limit.") from None
        if not line:
            raise KernelDied(await self._death())
        try:
            reply = json.loads(line)
        except ValueError:
            raise KernelDied("The session's kernel sent a malformed reply.") from None
        if not isinstance(reply, dict):
            raise KernelDied("The session's kernel sent a malformed reply.")
        return reply

    async def _death(self) -> str:
        assert self.process is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 5)
        code = self.process.returncode
        if code is not None and code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        else:
            how = f"exited with status {code}"
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            how += " (a resource limit: CPU time, or the kernel was stopped)"
        return f"The session's kernel {how}; its state is lost."

    async def _stderr(self) -> str:
        if self.process is None or self.process.stderr is None:
            return "no process"
        with contextlib.suppress(TimeoutError):
            data = await asyncio.wait_for(self.process.stderr.read(4000), 2)
            return data.decode(errors="replace").strip() or "no message"
        return "no message"

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 10)

    async def close(self) -> None:
        if self.ready is not None and not self.ready.done():
            with contextlib.suppress(Exception):  # a start that failed as it was cancelled
                await cancel_and_wait(self.ready)
        await self.kill()
        await asyncio.to_thread(shutil.rmtree, self.workspace, True)
