"""The chat service's socket.io server (python-socketio, ASGI), mounted at `/ws/socket.io`.

The web app connects with `transports: ['websocket']` and `auth: {token}`; polling stays on for
other clients. A connect is refused unless auth.py accepts the socket's user; the socket then
joins its user's room. The app's events: `user-join {auth: {token}}`, `heartbeat`, and
`events:chat {chat_id, data: {type: join|leave}}`, answered through the acknowledgement, and the
note editor's `ydoc:*` (documents.py). Events of its other features (`usage`, `events:channel`)
are not served and pass unheard.

With `REDIS_URL`, python-socketio's Redis manager carries emits between replicas (one pub/sub
channel, `WEBSOCKET_REDIS_CHANNEL`), so a turn run on one replica reaches a socket on another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import socketio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Receive, Scope, Send

from owui.chat.rawdb import RawPool
from owui.chat.realtime import read_marks
from owui.chat.realtime.auth import Refused, socket_user, token_in, verified
from owui.chat.realtime.documents import NoteDocuments
from owui.chat.realtime.emitter import Emitter
from owui.chat.realtime.rooms import chat_room, owns_chat, user_room
from owui.core import metrics
from owui.core.asgi import send_error
from owui.core.background import cancel_and_wait
from owui.core.config import Settings
from owui.core.tokens import TokenVerifier

log = logging.getLogger("owui.chat.realtime")
CatchUp = Callable[[str, str], None]  # (user id, chat id): a page joined the chat
MAX_CHAT_ID_CHARS = 128
# Seconds between pings and the wait for the answer: a socket left by a vanished client goes
# within a minute; the app's own heartbeat is every 30 s.
PING_INTERVAL, PING_TIMEOUT = 25, 20
MAX_PACKET_BYTES = 1024 * 1024
CLOSE_WAIT = 1.0  # seconds the sockets still open at stop have to take their close


class Realtime:
    """The server, its handlers and the emitter turns use."""

    def __init__(self, settings: Settings, pool: RawPool,
                 sessions: async_sessionmaker[AsyncSession],
                 catch_up: CatchUp | None = None) -> None:
        manager = None
        if settings.redis_url:
            manager = socketio.AsyncRedisManager(settings.redis_url,
                                                 channel=settings.websocket_redis_channel)
        self.origins = settings.cors_allow_origins
        self.sio = socketio.AsyncServer(
            async_mode="asgi", client_manager=manager, cors_allowed_origins=self.origin_allowed,
            ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT,
            max_http_buffer_size=MAX_PACKET_BYTES, logger=False, engineio_logger=False)
        self.asgi = socketio.ASGIApp(self.sio, socketio_path=None)
        self.verifier = TokenVerifier(settings.jwt_secret)
        self.pool = pool
        self.emitter = Emitter(self.sio)
        # Told when a page joins a chat: the answers being written in it send their output so
        # far to the chat's room (the web-app turns', given by chat/runtime.py).
        self.catch_up = catch_up
        self.sio.on("disconnect", self.disconnect)
        for event, handler in (("connect", self.connect), ("user-join", self.user_join),
                               ("heartbeat", self.heartbeat), ("events:chat", self.chat_event)):
            self.sio.on(event, handler)
        self.documents = NoteDocuments(self.sio, sessions)

    def start(self) -> None:
        """Listens on the Redis channel now, not at the first socket: a replica's sockets must
        hear what other replicas emit from the moment they connect."""
        if not self.sio.manager_initialized:
            self.sio.manager_initialized = True
            self.sio.manager.initialize()

    async def stop(self) -> None:
        """Closes the sockets still open (an Engine.IO close: clients reconnect, to another
        replica), then the server's background work and the Redis listener."""
        await self.documents.stop()
        sockets = list(self.sio.eio.sockets.values())
        if sockets:  # a long poll cut off by the server's stop never takes its close: not waited
            closing = asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing, CLOSE_WAIT)
        await self.sio.shutdown()
        manager = self.sio.manager
        listener = getattr(manager, "thread", None)
        if isinstance(listener, asyncio.Task):
            await cancel_and_wait(listener)
        redis = getattr(manager, "redis", None)
        if redis is not None:
            await redis.aclose()

    def origin_allowed(self, origin: str | None, environ: Mapping[str, Any]) -> bool:
        """The service's CORS origins, and always the origin the request came to (directly,
        or as the gateway's X-Forwarded-Host/Proto say)."""
        if origin is None or "*" in self.origins or origin in self.origins:
            return True
        host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST", "")
        scheme = environ.get("HTTP_X_FORWARDED_PROTO") or environ.get("wsgi.url_scheme", "http")
        return origin == f"{scheme.split(',')[0].strip()}://{host.split(',')[0].strip()}"

    async def connect(self, sid: str, environ: Mapping[str, Any], auth: object) -> None:
        claims = socket_user(self.verifier, environ, auth)  # raises Refused
        await self.sio.save_session(sid, {"user_id": claims.sub, "exp": claims.exp,
                                          "last_seen_at": int(time.time())})
        await self.sio.enter_room(sid, user_room(claims.sub))
        metrics.SOCKETS.inc()
        metrics.SOCKETS_OPENED.inc()

    async def disconnect(self, sid: str, *_reason: object) -> None:
        """Called only for sockets whose connect succeeded: the open-sockets gauge."""
        metrics.SOCKETS.dec()
        self.documents.forget(sid)

    async def _user_id(self, sid: str) -> str | None:
        with contextlib.suppress(KeyError):
            return (await self.sio.get_session(sid)).get("user_id")
        return None

    async def user_join(self, sid: str, data: object = None, *_rest: object) -> dict[str, Any]:
        """The app's `user-join {auth: {token}}`: the socket is its user's already (connect);
        the token must be the same user's."""
        user_id = await self._user_id(sid)
        auth = data.get("auth") if isinstance(data, dict) else None
        try:
            claims = verified(self.verifier, token_in(auth))
        except Refused as exc:
            return {"status": False, "detail": exc.error_args["message"]}
        if claims.sub != user_id:
            return {"status": False, "detail": "auth.token is not this socket's user."}
        return {"status": True, "id": claims.sub, "role": claims.role}

    async def heartbeat(self, sid: str, *_data: object) -> None:
        with contextlib.suppress(KeyError):
            async with self.sio.session(sid) as session:
                session["last_seen_at"] = int(time.time())

    async def chat_event(self, sid: str, data: object = None, *_rest: object) -> bool:
        """`events:chat {chat_id, data: {type: join|leave|last_read_at}}`: into a chat's room,
        for one's own chats only; acknowledged true or false, as Open WebUI does (the app
        refreshes the chat after its join). A joined page hears at once what answers of the
        chat have said so far (`catch_up`, then every REFRESH_S of turns/webapp_events.py while
        they are written), which the store keeps only once they end. `last_read_at`: the user
        has seen the chat (read_marks.py). Other types (`typing`) are not served: false."""
        chat_id = data.get("chat_id") if isinstance(data, dict) else None
        event = data.get("data") if isinstance(data, dict) else None
        kind = event.get("type") if isinstance(event, dict) else None
        user_id = await self._user_id(sid)
        if (not isinstance(chat_id, str) or not chat_id or len(chat_id) > MAX_CHAT_ID_CHARS
                or kind not in ("join", "leave", "last_read_at") or user_id is None):
            return False
        if kind == "leave":
            await self.sio.leave_room(sid, chat_room(chat_id))
            return True
        if kind == "last_read_at":
            return await self._mark_read(user_id, chat_id)
        try:
            owned = await owns_chat(self.pool, user_id, chat_id)
        except Exception:  # the store failing is not the client's fault, nor a crash
            log.exception("checking chat %s for a socket failed", chat_id)
            return False
        if not owned:
            return False
        await self.sio.enter_room(sid, chat_room(chat_id))
        if self.catch_up is not None:
            self.catch_up(user_id, chat_id)
        return True

    async def _mark_read(self, user_id: str, chat_id: str) -> bool:
        try:
            async with self.pool.acquire() as conn:
                return await conn.write(lambda w: read_marks.mark_read(w, chat_id, user_id))
        except Exception:  # the store failing is not the client's fault, nor a crash
            log.exception("marking chat %s read failed", chat_id)
            return False


async def mount(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app mounted at `/ws/socket.io`: the service's Realtime, once it has started
    (chat/runtime.py's `Runtime.realtime`)."""
    runtime = getattr(scope["app"].state, "runtime", None)
    if runtime is None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # try again later
        else:
            await send_error(send, 503, "The chat service is starting.")
        return
    await runtime.realtime.asgi(scope, receive, send)
