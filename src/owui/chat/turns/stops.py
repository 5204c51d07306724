"""A stop, wherever its turn runs: on this replica, or on another one reached through Redis.

A turn runs in the process that began it (running.py): a stop that lands on another replica of
the chat service cannot cancel it there. With `REDIS_URL`, that replica publishes the stop on
`<WEBSOCKET_REDIS_CHANNEL>:stop` (`{chat_id, message_id, user_id, request_id, reply_to}`);
every replica listens from start-up, and the one running the turn answers on the asker's own
reply channel (`<WEBSOCKET_REDIS_CHANNEL>:stop-reply:<replica>`): at once that it runs it, then,
once stopped as a local stop does (what was written is kept, status stopped), with the message
as stored. The channels share the deployment's socket.io prefix, so one setting keeps
deployments (and test runs) on one Redis apart.

No acknowledgement within ACK_WAIT: no live replica runs the turn (its process died with the
row in the turns table, or it just ended); its row ends here, stopped, with what was stored of
it, rather than pending until the sweep finds it. A replica that acknowledged is waited for up
to STOP_WAIT (a loaded replica is slow, not dead). Without Redis (one process) a turn this process
does not run is not reachable: `stop` says so (None) and the routes answer 409 as before.

Owners are checked by the routes before a stop (someone else's turn is a 404) and again by the
replica running it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import redis.asyncio as redis

from owui.chat.rawdb import RawConnection
from owui.chat.turns import store
from owui.chat.turns.running import Turns
from owui.chat.turns.webapp import WebTurns
from owui.core.background import cancel_and_wait, every
from owui.core.config import Settings

log = logging.getLogger("owui.chat.turns")
ACK_WAIT = 2.0  # seconds the asker waits to hear that a replica runs the turn
STOP_WAIT = 30.0  # and then for its message, stopped
RETRY_EVERY = 1.0  # seconds between attempts to listen again when Redis went away
SUBSCRIBE_WAIT = 5.0  # seconds start-up waits for the first subscription


@dataclass(frozen=True, slots=True)
class Stopped:
    """A stop's outcome: where the turn was stopped (`here`, by the `replica` running it, or
    as an `orphan`: no replica answered, its row ended here; `idle`: it was not running), and
    its message as stored (None: there is no such message)."""

    where: Literal["here", "replica", "orphan", "idle"]
    message: Mapping[str, Any] | None


@dataclass
class Asked:
    """A stop sent to the other replicas: acknowledged, then answered with the message."""

    acked: asyncio.Event = field(default_factory=asyncio.Event)
    answer: asyncio.Future[Mapping[str, Any] | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class Stops:
    """Stops of this replica's turns, and of other replicas' through Redis."""

    def __init__(self, settings: Settings, turns: Turns, webturns: WebTurns) -> None:
        self.turns = turns
        self.webturns = webturns
        self.redis = redis.from_url(settings.redis_url) if settings.redis_url else None
        prefix = settings.websocket_redis_channel
        self.channel = f"{prefix}:stop"
        self.reply_to = f"{prefix}:stop-reply:{uuid.uuid4().hex}"  # this replica's answers
        self.waiting: dict[str, Asked] = {}
        self.subscribed = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._listener_failures = 0  # attempts failed in a row (logged once)
        self._tried = asyncio.Event()  # the first attempt to listen is over, either way

    async def start(self) -> None:
        """Listens from now on (again after RETRY_EVERY should Redis go away); waits for the
        first attempt, so that a stop sent to this replica's turns is heard from its first
        request (Redis away: start-up goes on, and listening follows when it is back)."""
        if self.redis is None:
            return
        self._listener = every(RETRY_EVERY, self._listen, name="listening for chat stops",
                               now=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._tried.wait(), SUBSCRIBE_WAIT)

    async def stop(self) -> None:
        await cancel_and_wait(self._listener)
        if self.redis is not None:
            await self.redis.aclose()

    def runs_here(self, chat_id: str, message_id: str, user_id: str) -> bool:
        """This process runs the user's turn."""
        web = self.webturns.running.get(message_id)
        if web is not None and web.chat_id == chat_id and web.user_id == user_id:
            return True
        turn = self.turns.get(chat_id, message_id)
        return turn is not None and turn.user_id == user_id

    async def stop_here(self, chat_id: str, message_id: str, user_id: str
                        ) -> dict[str, Any] | None:
        """Stops the turn if this process runs it (and it is the user's): its message as
        stored; None when it does not run here."""
        web = self.webturns.running.get(message_id)
        if web is not None and web.chat_id == chat_id and web.user_id == user_id:
            await self.webturns.stop(web)  # the work after the answer is not done either
            return web.begun.turn.message
        turn = self.turns.get(chat_id, message_id)
        if turn is None or turn.user_id != user_id:
            return None
        await self.turns.stop_turn(turn)
        return turn.message

    async def stop_anywhere(self, conn: RawConnection, chat_id: str, message_id: str,
                            user_id: str) -> Stopped | None:
        """Stops the user's turn wherever it runs. None: another process runs it and there
        is no Redis to reach it (one process: the caller says where it runs)."""
        message = await self.stop_here(chat_id, message_id, user_id)
        if message is not None:
            return Stopped("here", message)
        if not await conn.fetch("SELECT 1 FROM turns WHERE chat_id = :chat_id"
                                " AND message_id = :id AND user_id = :user_id",
                                {"chat_id": chat_id, "id": message_id, "user_id": user_id}):
            return Stopped("idle", await store.read_message(conn, chat_id, message_id))
        if self.redis is None:
            return None
        request_id = uuid.uuid4().hex
        asked = self.waiting[request_id] = Asked()
        try:
            payload = {"chat_id": chat_id, "message_id": message_id, "user_id": user_id,
                       "request_id": request_id, "reply_to": self.reply_to}
            await self.redis.publish(self.channel, json.dumps(payload))
            try:
                await asyncio.wait_for(asked.acked.wait(), ACK_WAIT)
            except TimeoutError:
                acked = False
            else:
                acked = True
                with contextlib.suppress(TimeoutError):
                    message = await asyncio.wait_for(asked.answer, STOP_WAIT)
                    if message is not None:
                        return Stopped("replica", message)
        finally:
            self.waiting.pop(request_id, None)
        if acked:  # it ended meanwhile, or is slow to say so: the message as stored
            return Stopped("replica", await store.read_message(conn, chat_id, message_id))
        # No replica runs it: its row ends here (unless it ended meanwhile), what was stored kept.
        if await conn.write(lambda writer: store.end_stopped(writer, chat_id, message_id)):
            log.warning("no replica answered the stop of chat turn %s: ended as stopped",
                        message_id)
        return Stopped("orphan", await store.read_message(conn, chat_id, message_id))

    async def _listen(self) -> None:
        """Listens on the stop channel and this replica's reply channel until Redis goes
        away (said once, not every RETRY_EVERY while it stays away; `every` listens again)."""
        try:
            await self._listen_until_lost()
        except redis.ConnectionError as exc:
            if self.subscribed.is_set() or self._listener_failures == 0:
                log.warning("not listening for chat stops on Redis: %s; trying again", exc)
            self._listener_failures += 1
            self.subscribed.clear()
            self._tried.set()
        except Exception:  # `every` logs it and tries again; start-up does not wait for it
            self._tried.set()
            raise

    async def _listen_until_lost(self) -> None:
        assert self.redis is not None
        async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(self.channel, self.reply_to)
            if self._listener_failures:
                log.info("listening for chat stops on Redis again")
            self._listener_failures = 0
            self.subscribed.set()
            self._tried.set()
            async for item in pubsub.listen():
                try:
                    data = json.loads(item["data"])
                except (TypeError, ValueError):
                    log.warning("a message on %r that is not JSON was ignored", item["channel"])
                    continue
                if not isinstance(data, dict):
                    continue
                if item["channel"].decode() == self.reply_to:
                    self._answered(data)
                else:  # in a task: the stop waits for the turn's last write
                    self.turns.spawn(self._asked(data))

    def _answered(self, data: dict[str, Any]) -> None:
        asked = self.waiting.get(str(data.get("request_id")))
        if asked is None:  # answered after the asker gave up
            return
        asked.acked.set()
        if "message" in data and not asked.answer.done():
            message = data["message"]
            asked.answer.set_result(message if isinstance(message, dict) else None)

    async def _asked(self, data: dict[str, Any]) -> None:
        """Another replica's stop: answered only by the replica running the turn."""
        chat_id, message_id, user_id = (data.get(k) for k in ("chat_id", "message_id",
                                                               "user_id"))
        reply_to = data.get("reply_to")
        if not all(isinstance(v, str) for v in (chat_id, message_id, user_id, reply_to)):
            log.warning("a stop on %r without chat_id, message_id, user_id or reply_to was"
                        " ignored", self.channel)
            return
        if not self.runs_here(chat_id, message_id, user_id):  # type: ignore[arg-type]
            return
        assert self.redis is not None
        request_id = data.get("request_id")
        await self.redis.publish(reply_to, json.dumps(  # type: ignore[arg-type]
            {"request_id": request_id}))  # runs here: the asker waits for the stop
        message = await self.stop_here(chat_id, message_id, user_id)  # type: ignore[arg-type]
        await self.redis.publish(reply_to, json.dumps(  # type: ignore[arg-type]
            {"request_id": request_id, "message": message}))
