"""A fork server for `owui up`: the framework is imported once, each service is a fork of it.

Five CPython processes that each import FastAPI, SQLAlchemy, pydantic, uvicorn and Alembic
spend most of their start-up doing the same imports, and each keeps its own copy. Here one
process (the server) imports them and then forks a child per service on request; the children
share those pages copy-on-write and start with only their own package left to import.

The server is single-threaded and runs no event loop, so forking it is safe. It talks to the
supervisor over a Unix socket: a spawn request carries the child's argv and environment, with
the write end of the child's output pipe attached (SCM_RIGHTS); the server answers with the
pid, and later with the exit status, since only it can reap its children.

Once the services are forked and `REST_AFTER` seconds pass without a request, the server
replaces itself with forkidle.py's small loop (same pid), which frees the copy of the framework
that no child shares any more; a restart brings it back (forkidle.py says how).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import select
import signal
import socket
import sys
from collections import deque
from dataclasses import dataclass, field

PRELOAD = (
    "fastapi", "fastapi.routing", "fastapi.openapi.utils", "starlette.middleware.cors",
    "pydantic", "pydantic_settings", "sqlalchemy", "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.sqlite.aiosqlite", "aiosqlite",
    "uvicorn", "uvicorn.config", "uvicorn.server", "uvicorn.lifespan.on",
    "uvicorn.protocols.http.httptools_impl", "uvicorn.loops.uvloop", "uvloop", "httpx",
    "aiohttp", "jwt", "limits", "owui.core.service", "owui.core.background", "owui.cli.serve",
    # What every service imports on its own as it starts: FastAPI when it reads the routes'
    # parameters, uvicorn its WebSocket protocol, the child the command line it runs.
    "pydantic.v1", "fastapi.telemetry._runtime",
    "uvicorn.protocols.websockets.websockets_sansio_impl", "owui.cli.main",
)
# Not Alembic: `owui up` migrates in a child of its own before the services start, and a
# service at head checks that without it (core/migrate.py), so no service ever runs it.
# Modules that preloaded packages import for features no service uses, blocked (None in
# sys.modules makes their import fail, which these packages expect and handle): httpx's
# command-line client, which loads rich and pygments (~4 MB, never called).
UNUSED = ("httpx._main",)
# Only where the services use PostgreSQL (2.6 MB that a SQLite profile never touches).
POSTGRES_PRELOAD = ("sqlalchemy.dialects.postgresql.asyncpg", "asyncpg")
_MESSAGE_SIZE = 1 << 20
REST_AFTER = 5.0  # seconds without a spawn request before the server goes to rest
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# The server side: runs as `python -m owui.cli.forkserver FD`.

def _preload() -> None:
    import importlib

    for module in UNUSED:
        sys.modules.setdefault(module, None)  # type: ignore[assignment]
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgresql")
    for module in PRELOAD + (POSTGRES_PRELOAD if postgres else ()):
        with contextlib.suppress(ImportError):  # an optional extra that is not installed
            importlib.import_module(module)
    gc.collect()
    gc.freeze()  # keep the shared objects out of later collections, so their pages stay shared


def _run_child(argv: list[str], env: dict[str, str], output: int, server: socket.socket,
               parent: int) -> None:
    """In the forked child: become the service. Never returns."""
    code = 1
    try:
        server.close()
        signal.set_wakeup_fd(-1)
        os.setsid()
        _die_with_parent()
        if os.getppid() != parent:  # the server died before the line above took effect
            os._exit(1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        os.environ.clear()
        os.environ.update(env)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from setproctitle import setproctitle

        setproctitle(" ".join(["owui", *argv]))  # what `ps` shows: the service, not the server
        from owui.cli.main import app

        sys.argv = ["owui", *argv]
        try:
            app(args=argv, prog_name="owui", standalone_mode=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve_forever(fd: int, again: bool = False) -> None:
    """`again`: back from rest (forkidle.py) with a request waiting; no "ready" to say."""
    from setproctitle import setproctitle

    from owui.cli.forkidle import exec_module, reap, wake_on_signals

    setproctitle("owui fork-server")
    server = socket.socket(fileno=fd)
    if not again:
        _die_with_parent()  # kept across exec: set once
    _preload()
    wake_read = wake_on_signals()
    if again:
        reap(server)  # any that exited while we were exec'ing
    else:
        server.sendall(b'{"op": "ready"}\n')
    forked = again
    while True:
        readable, _, _ = select.select([server, wake_read], [], [], REST_AFTER)
        if not readable and forked:
            exec_module("owui.cli.forkidle", fd)
        if wake_read in readable:
            os.read(wake_read, 4096)
            reap(server)
        if server in readable:
            message, fds, _flags, _addr = socket.recv_fds(server, _MESSAGE_SIZE, 1)
            if not message:
                return  # the supervisor is gone: our children get SIGTERM as we exit
            request = json.loads(message)
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:
                _run_child(request["argv"], request["env"], fds[0], server, parent)
            os.close(fds[0])
            forked = True
            server.sendall(json.dumps({"op": "spawned", "pid": pid}).encode() + b"\n")


# The supervisor side.

@dataclass(eq=False)
class ForkedProcess:
    """What the supervisor needs of a child: the surface of asyncio.subprocess.Process."""

    pid: int
    stdout: asyncio.StreamReader
    returncode: int | None = None
    _exited: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def set_exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()


class ForkServer:
    """The supervisor's handle on the fork server process."""

    def __init__(self, line_limit: int) -> None:
        self.line_limit = line_limit
        self.process: asyncio.subprocess.Process | None = None
        self._sock: socket.socket | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._children: dict[int, ForkedProcess] = {}
        # Requests answered in order: each "spawned" event takes the oldest waiting request.
        self._waiting: deque[tuple[asyncio.Future[ForkedProcess], asyncio.StreamReader]] = (
            deque())
        self._events: asyncio.Task[None] | None = None

    async def start(self, env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair()
        self._sock = ours.dup()  # for send_fds: the stream below owns `ours`
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "owui.cli.forkserver", str(theirs.fileno()),
            pass_fds=(theirs.fileno(),), env=env, stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True)
        theirs.close()
        ours.setblocking(False)
        # The writer is kept: once collected, it would close the connection under the reader.
        self._reader, self._writer = await asyncio.open_unix_connection(
            sock=ours, limit=_MESSAGE_SIZE)
        ready = json.loads(await self._reader.readline() or b"{}")
        if ready.get("op") != "ready":
            raise OSError("the fork server did not start")
        self._events = asyncio.create_task(self._read_events())

    async def _read_events(self) -> None:
        assert self._reader is not None
        while line := await self._reader.readline():
            event = json.loads(line)
            if event["op"] == "spawned":
                future, stdout = self._waiting.popleft()
                child = ForkedProcess(event["pid"], stdout)
                self._children[child.pid] = child
                future.set_result(child)
            elif event["op"] == "exited" and (child := self._children.pop(event["pid"], None)):
                child.set_exit(event["code"])
        # The server is gone, and its children with it (they die with their parent).
        for child in self._children.values():
            child.set_exit(-signal.SIGKILL)
        for future, _stdout in self._waiting:
            future.set_exception(OSError("the fork server exited"))
        self._children.clear()
        self._waiting.clear()

    async def spawn(self, argv: list[str], env: dict[str, str]) -> ForkedProcess:
        assert self._sock is not None
        if self._events is None or self._events.done():
            raise OSError("the fork server is not running")
        args = argv[3:] if argv[1:3] == ["-m", "owui"] else argv
        loop = asyncio.get_running_loop()
        read_end, write_end = os.pipe()
        stdout = asyncio.StreamReader(limit=self.line_limit)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdout),
                                     os.fdopen(read_end, "rb", buffering=0))
        future: asyncio.Future[ForkedProcess] = loop.create_future()
        self._waiting.append((future, stdout))
        try:
            payload = json.dumps({"argv": args, "env": env}).encode()
            socket.send_fds(self._sock, [payload], [write_end])
        except OSError:
            self._waiting.remove((future, stdout))
            raise
        finally:
            os.close(write_end)
        return await future

    async def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), 2.0)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._events is not None:
            self._events.cancel()


if __name__ == "__main__":
    serve_forever(int(sys.argv[1]), again="--again" in sys.argv[2:])
