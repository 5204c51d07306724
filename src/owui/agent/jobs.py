"""Background jobs stored in the database (tasks and workflow runs): they run in the service,
not in the request that started them, so they outlive the client; they can be cancelled; and
one that was running when its process died is marked failed, never left 'running'.

Each job row names its runner ("host:pid:boot"). The runner beats every few seconds. A row
whose runner is a dead process on this host is failed at once (at start, and on every beat);
a row whose runner has not beaten for STALE_AFTER seconds is failed too (another host died).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import or_, select, update

from owui.agent.models import Task, WorkflowRun
from owui.core.background import cancel_and_wait, every
from owui.core.db import Database
from owui.core.errors import DomainError
from owui.core.runners import boot, pid_alive, runner, runner_dead

__all__ = ["Jobs", "boot", "error_text", "pid_alive", "runner", "runner_dead"]

log = logging.getLogger("owui.agent.jobs")
HEARTBEAT = 2.0
SWEEP_EVERY = 5  # heartbeats
STALE_AFTER = 20.0
ACTIVE = ("queued", "running")
INTERRUPTED = "Interrupted: the agent service stopped while this was running."
JobModel = type[Task] | type[WorkflowRun]
Work = Callable[[], Awaitable[Any]]
Finish = Callable[[str, Any, str | None], Awaitable[None]]
Interrupted = Callable[[list[str]], Awaitable[None]]


def error_text(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    return f"{type(exc).__name__}: {exc}"


class Jobs:
    def __init__(self, db: Database, *, on_interrupted: Sequence[Interrupted] = ()) -> None:
        self.db = db
        # Told the ids of the workflow runs a sweep failed as interrupted (their steps too).
        self.on_interrupted = tuple(on_interrupted)
        self.local: dict[str, tuple[JobModel, asyncio.Task[Exception | None]]] = {}
        self._beat: asyncio.Task[None] | None = None
        self._beats = 0

    async def start(self) -> None:
        await self.sweep()
        self._beat = every(HEARTBEAT, self._tick, name="job heartbeat")

    async def stop(self) -> None:
        await cancel_and_wait(self._beat)
        await asyncio.gather(*(cancel_and_wait(t) for _m, t in list(self.local.values())),
                             return_exceptions=True)

    def launch(self, model: JobModel, job_id: str, work: Work,
               finish: Finish) -> asyncio.Task[Exception | None]:
        """Run the work in the background; the task's result is the work's error, if any."""
        task = asyncio.create_task(self._run(model, job_id, work, finish))
        self.local[job_id] = (model, task)
        task.add_done_callback(lambda _t: self.local.pop(job_id, None))
        return task

    async def _run(self, model: JobModel, job_id: str, work: Work,
                   finish: Finish) -> Exception | None:
        await self.update(model, job_id, status="running", runner=runner(),
                          heartbeat_at=time.time())
        try:
            result = await work()
        except asyncio.CancelledError:
            await asyncio.shield(finish("cancelled", None, "Cancelled."))
            raise
        except Exception as exc:  # the job's failure is stored, never lost
            log.info("job %s failed: %s", job_id, exc)
            await finish("failed", None, error_text(exc))
            return exc
        await finish("completed", result, None)
        return None

    async def cancel(self, model: JobModel, job_id: str) -> None:
        local = self.local.get(job_id)
        if local is not None:
            with contextlib.suppress(Exception):  # the job's own failure is stored, not raised
                await cancel_and_wait(local[1])
            return
        await self.update(model, job_id, cancel_requested=True)

    async def update(self, model: JobModel, job_id: str, **values: Any) -> None:
        async with self.db.sessions() as session:
            await session.execute(update(model).where(model.id == job_id)
                                  .values(updated_at=time.time(), **values))
            await session.commit()

    async def _tick(self) -> None:
        """Beat for the jobs running here; every SWEEP_EVERY beats, sweep (one after the
        other: on SQLite they would wait for each other's writes anyway)."""
        self._beats += 1
        if self.local:
            await self.beat()
        if self._beats % SWEEP_EVERY == 0:
            await self.sweep()

    async def beat(self) -> None:
        now = time.time()
        async with self.db.sessions() as session:
            for model in (Task, WorkflowRun):
                ids = [i for i, (m, _t) in self.local.items() if m is model]
                if not ids:
                    continue
                await session.execute(update(model).where(model.id.in_(ids))
                                      .values(heartbeat_at=now))
                cancelled = await session.scalars(select(model.id).where(
                    model.id.in_(ids), model.cancel_requested.is_(True)))
                for job_id in cancelled:
                    self.local[job_id][1].cancel()
            await session.commit()

    async def sweep(self) -> None:
        """Fail the jobs whose runner is gone."""
        stale = time.time() - STALE_AFTER
        for model in (Task, WorkflowRun):
            async with self.db.sessions() as session:
                rows = (await session.execute(select(model.id, model.runner).where(
                    model.status.in_(ACTIVE),
                    or_(model.runner.is_(None), model.runner != runner())))).all()
                lost = [row.id for row in rows if row.id not in self.local]
                if not lost:
                    continue
                old = set(await session.scalars(select(model.id).where(
                    model.id.in_(lost), model.heartbeat_at < stale)))
                dead = [row.id for row in rows
                        if row.id in old or (row.id in lost and runner_dead(row.runner))]
                if not dead:
                    continue
                await session.execute(update(model).where(
                    model.id.in_(dead), model.status.in_(ACTIVE)).values(
                    status="failed", error=INTERRUPTED, finished_at=time.time(),
                    updated_at=time.time()))
                await session.commit()
            log.warning("marked %d interrupted %s as failed", len(dead), model.__tablename__)
            for hook in self.on_interrupted:
                if model is WorkflowRun:
                    await hook(dead)
