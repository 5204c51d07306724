"""Code sessions: one kernel per (user, session id), a slot (and uid) each, idle ones reaped."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from typing import Any

from owui.agent.jobs import boot, pid_alive
from owui.agent.sandbox.kernels import ExecutionTimeout, Kernel, KernelDied
from owui.agent.sandbox.launch import Limits, SandboxUnavailable, bwrap_command
from owui.core import tracing
from owui.core.background import cancel_and_wait, every
from owui.core.config import Settings
from owui.core.errors import ConflictError, ForbiddenError, RequestTimeoutError, UnavailableError

log = logging.getLogger("owui.agent.sandbox")


@dataclass(frozen=True, slots=True)
class Outcome:
    session_id: str
    reply: dict[str, Any]
    duration_ms: float
    cold: bool


class KernelPool:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sandbox = settings.code_execution_sandbox
        self.limits = Limits.from_settings(settings)
        # A directory per service process: replicas may share the data dir.
        self.parent = settings.owui_data_dir / "agent" / "sessions"
        self.root = self.parent / f"{os.getpid()}-{boot()}"
        self.kernels: dict[tuple[str, str], Kernel] = {}
        self.free_slots = list(range(settings.code_execution_max_sessions))
        self._starting = asyncio.Lock()
        self._reaper: asyncio.Task[None] | None = None
        self._unavailable: str | None = None

    def uid_for(self, slot: int) -> int | None:
        """A uid of its own per slot when the service is root, so RLIMIT_NPROC bites. Spread
        by the service's pid: two agent services on one host then (almost surely) share no
        uid, hence no process budget."""
        if os.geteuid() != 0:
            return None
        block = (os.getpid() % 1024) * self.settings.code_execution_max_sessions
        return self.settings.code_execution_uid + block + slot

    async def start(self) -> None:
        await asyncio.to_thread(self._remove_orphans)
        self.root.mkdir(parents=True, exist_ok=True)
        if self.sandbox == "bwrap":
            try:
                bwrap_command(self.root, None, self.limits, 1)
            except SandboxUnavailable as exc:
                self._unavailable = str(exc)
                log.warning("code execution is unavailable: %s", exc)
        # A quarter of the idle timeout, within [0.25 s, 30 s]: idle sessions go soon after.
        period = min(max(self.settings.code_execution_idle_timeout / 4, 0.25), 30.0)
        self._reaper = every(period, self.reap, name="reaping idle code sessions")

    async def stop(self) -> None:
        await cancel_and_wait(self._reaper)
        await asyncio.gather(*(self._close(k) for k in list(self.kernels.values())))

    def _remove_orphans(self) -> None:
        """Workspaces of service processes that are gone: their kernels died with them."""
        if not self.parent.is_dir():
            return
        for child in self.parent.iterdir():
            pid, _, started = child.name.partition("-")
            mine = pid == str(os.getpid())
            if (mine and started != boot()) or (not mine and not (pid.isdigit()
                                                             and pid_alive(int(pid)))):
                shutil.rmtree(child, ignore_errors=True)

    def check_available(self) -> None:
        if not self.settings.enable_code_execution:
            raise ForbiddenError("Code execution is turned off (ENABLE_CODE_EXECUTION).")
        if self.sandbox == "bwrap" and self._unavailable is not None:
            raise UnavailableError(self._unavailable)

    async def execute(self, user_id: str, session_id: str | None, code: str,
                      seconds: float | None) -> Outcome:
        self.check_available()
        limit = min(seconds or self.settings.code_execution_timeout,
                    self.settings.code_execution_timeout * 10)
        ephemeral = session_id is None
        session_id = session_id or f"once-{uuid.uuid4().hex[:12]}"
        kernel, cold = await self._kernel((user_id, session_id))
        started = time.perf_counter()
        try:
            async with kernel.lock:
                if not kernel.alive:
                    raise ConflictError(f"Code session '{session_id}' was just closed.")
                with tracing.span("agent.code_execution", **{
                        "owui.sandbox": self.sandbox, "owui.code.cold_start": cold,
                        "owui.code.ephemeral": ephemeral, "owui.code.timeout_s": limit}):
                    reply = await kernel.execute(code, limit)
        except ExecutionTimeout as exc:
            await self._close(kernel)
            raise RequestTimeoutError(str(exc)) from None
        except KernelDied as exc:
            await self._close(kernel)
            reply = {"result": None, "stdout": "", "stderr": str(exc), "images": [],
                     "error": {"name": "KernelDied", "value": str(exc)}}
        finally:
            if ephemeral:
                await self._close(kernel)
        return Outcome(session_id, reply, (time.perf_counter() - started) * 1000, cold)

    async def _kernel(self, key: tuple[str, str]) -> tuple[Kernel, bool]:
        """The session's kernel, started if need be. Only the bookkeeping is serialised:
        kernels of different sessions start side by side; calls to a session that is
        starting wait for that start."""
        kernel, created = self.kernels.get(key), False
        if kernel is None or kernel.ended:
            async with self._starting:
                kernel = self.kernels.get(key)
                if kernel is None or kernel.ended:
                    if kernel is not None:
                        await self._close(kernel)
                    slot = await self._free_slot()
                    kernel = Kernel(key, self.root / uuid.uuid4().hex, slot)
                    self.kernels[key] = kernel
                    kernel.ready = asyncio.create_task(
                        kernel.start(self.sandbox, self.uid_for(slot), self.limits))
                    created = True
        ready = kernel.ready
        try:
            if ready is not None:
                await asyncio.shield(ready)
        except asyncio.CancelledError:
            # The start was cancelled because the session was closed meanwhile (not this
            # request): a conflict to report, not a cancellation to pass on as a 500.
            current = asyncio.current_task()
            if ready is None or not ready.cancelled() or (current and current.cancelling()):
                raise
            raise ConflictError(f"Code session '{key[1]}' was closed while it "
                                "started; run the code again.") from None
        except (KernelDied, SandboxUnavailable, OSError) as exc:
            await self._close(kernel)
            log.error("code sandbox failed to start: %s", exc)
            raise UnavailableError(str(exc)) from None
        return kernel, created

    async def _free_slot(self) -> int:
        if not self.free_slots:
            idle = [k for k in self.kernels.values() if not k.busy and not k.starting]
            if not idle:
                raise UnavailableError(f"All {len(self.kernels)} code sessions are busy; "
                                       "try again shortly.")
            await self._close(min(idle, key=lambda k: k.last_used))
        return self.free_slots.pop(0)

    async def _close(self, kernel: Kernel) -> None:
        if self.kernels.get(kernel.key) is kernel:
            del self.kernels[kernel.key]
            self.free_slots.append(kernel.slot)
        await kernel.close()

    def sessions_of(self, user_id: str) -> list[Kernel]:
        return [k for k in self.kernels.values() if k.key[0] == user_id]

    async def close_session(self, user_id: str, session_id: str) -> bool:
        kernel = self.kernels.get((user_id, session_id))
        if kernel is None:
            return False
        await self._close(kernel)
        return True

    async def reap(self) -> int:
        deadline = time.monotonic() - self.settings.code_execution_idle_timeout
        # A kernel still starting has no process yet: not dead, and not to be cut short.
        idle = [k for k in self.kernels.values()
                if not k.busy and not k.starting and (k.last_used < deadline or not k.alive)]
        for kernel in idle:
            log.info("reaping idle code session %s", kernel.key[1])
            await self._close(kernel)
        return len(idle)
