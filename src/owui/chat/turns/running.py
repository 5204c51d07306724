"""The turns this process runs: each in a task of its own, driven from the agent's events to
its stored message, however it ends.

A turn runs in a task of its own, not in the request that started it: a client that goes away
only stops listening, and the answer is stored all the same. Nothing is written per token: the
message is written at the start (pending) and at the end (done, stopped or error).

Running turns are known to this process only (`Turns.running`): a stop that lands on another
replica reaches the turn through Redis (stops.py). The turns table (store.py) is what every
replica shares: it tells which pending messages a dead process left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable
from typing import Any, TypeVar

from owui.chat.clients.agent import AgentClient
from owui.chat.rawdb import Job, RawConnection, RawPool
from owui.chat.turns import store
from owui.chat.turns.turn import Turn
from owui.core import metrics
from owui.core.background import cancel_and_wait, every
from owui.core.client import ServiceError, ServiceFailed
from owui.core.config import Settings

log = logging.getLogger("owui.chat.turns")
Key = tuple[str, str]  # (chat id, assistant message id)
SWEEP_EVERY = 300.0
T = TypeVar("T")


class Turns:
    """The turns this process runs, and the work that keeps their messages right."""

    def __init__(self, settings: Settings, pool: RawPool, agent: AgentClient) -> None:
        self.settings = settings
        self.pool = pool
        self.agent = agent
        self.running: dict[Key, Turn] = {}
        self.locks: weakref.WeakValueDictionary[str, asyncio.Lock] = \
            weakref.WeakValueDictionary()
        self.background: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.sweep()
        # a database hiccup must not end the sweeps: `every` logs it and goes on
        self._sweeper = every(SWEEP_EVERY, self.sweep, name="sweeping interrupted chat turns")

    async def stop(self) -> None:
        """Stop every running turn, each stored as interrupted, before the writer stops."""
        await cancel_and_wait(self._sweeper)
        tasks = [t.task for t in self.running.values() if t.task is not None]
        for task in [*tasks, *self.background]:
            task.cancel()
        await asyncio.gather(*tasks, *self.background, return_exceptions=True)

    async def sweep(self) -> None:
        running = set(self.running)
        await self.write(lambda writer: store.interrupt_dead(writer, running))

    def lock(self, chat_id: str) -> asyncio.Lock:
        """The chat's lock (alive while someone holds or waits for it)."""
        found = self.locks.get(chat_id)
        if found is None:
            found = self.locks[chat_id] = asyncio.Lock()
        return found

    def launch(self, turn: Turn) -> None:
        if turn.chat_id is None:
            turn.written.set()
        else:
            self.running[(turn.chat_id, turn.message_id)] = turn
        turn.task = asyncio.create_task(self._drive(turn), name=f"turn-{turn.message_id}")

    async def first_write(self, turn: Turn, conn: RawConnection, job: Job[None]) -> None:
        """The turn's first write, on the request's connection, while its run begins; should
        it fail, the run is dropped (nothing more stored) and the error raised. (Were the
        request cancelled while a write it queued still lands, the sweep finds the turn: its
        row names this process, which no longer runs it.)"""
        try:
            await conn.write(job)
        except BaseException:
            turn.dropped = True
            turn.written.set()
            if turn.task is not None:
                turn.task.cancel()
            raise
        turn.written.set()

    async def write(self, job: Job[T]) -> T:
        """A write of the turns' own: on SQLite straight to the writer (no reader held)."""
        if self.pool.writer is not None:
            return await self.pool.writer.submit(job)
        async with self.pool.acquire() as conn:
            return await conn.write(job)

    def spawn(self, work: Awaitable[Any]) -> None:
        """Background work that outlives its request (the title), kept until it ends; its
        failure is logged, never raised."""
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("background work of a chat turn failed")

        task = asyncio.create_task(guarded())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def get(self, chat_id: str, message_id: str) -> Turn | None:
        return self.running.get((chat_id, message_id))

    async def stop_turn(self, turn: Turn) -> None:
        turn.stop_requested = True
        if turn.task is not None:
            turn.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(turn.task)

    async def _drive(self, turn: Turn) -> None:
        watch = metrics.TurnWatch()
        try:
            async with contextlib.aclosing(self.agent.run(turn.token, turn.body)) as events:
                async for event in events:
                    turn.events += 1
                    turn.apply(event)
                    if turn.content:
                        watch.first_token()
                    if event.get("type") != "done":
                        turn.publish(event)
                    if not turn.first.done():
                        turn.first.set_result(None)
            if turn.status == "pending":
                raise ServiceFailed("agent", 502,
                                    "The agent service ended the answer without finishing it.")
        except asyncio.CancelledError:
            turn.status = "stopped" if turn.stop_requested else "error"
            turn.error = None if turn.stop_requested else store.INTERRUPTED
        except ServiceError as exc:
            turn.status, turn.error, turn.error_status = "error", exc.detail, exc.status
        except Exception as exc:  # whatever it was, the message must not stay pending
            log.exception("chat turn %s failed", turn.message_id)
            turn.status, turn.error = "error", f"The turn failed: {type(exc).__name__}"
        finally:
            watch.done(turn.status)
            await asyncio.shield(self._end(turn))

    async def _end(self, turn: Turn) -> None:
        if not turn.first.done():  # before the store: a request waits on it, holding a reader
            turn.first.set_result(None)
        try:
            await self._store(turn)
        finally:
            if turn.chat_id is not None:
                self.running.pop((turn.chat_id, turn.message_id), None)
            if turn.status == "done" and turn.usage:
                turn.publish({"type": "usage", "usage": turn.usage})
            if turn.status == "error":
                turn.publish({"type": "error", "status": turn.error_status,
                              "detail": turn.error, "message": turn.message})
            else:
                turn.publish({"type": "done", "message": turn.message})
            turn.publish(None)
        if turn.status == "done" and turn.after is not None:
            self.spawn(turn.after(turn))

    async def _store(self, turn: Turn) -> None:
        extra = turn.final_extra()
        turn.message = {"id": turn.message_id, "parentId": turn.parent_id, "childrenIds": [],
                        "role": "assistant", "content": turn.content, "model": turn.model,
                        **extra}
        await turn.written.wait()  # the first write, made while the run began
        if turn.chat_id is None or turn.dropped:
            return
        chat_id = turn.chat_id
        try:
            await self.write(lambda writer: store.finish(
                writer, chat_id, turn.message_id, turn.content, turn.model, extra))
        except Exception:  # the sweep marks it interrupted later; say so now in the log
            log.exception("storing the answer %s of chat %s failed", turn.message_id, chat_id)
            raise
