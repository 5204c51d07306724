"""The asyncio supervisor behind `owui up`.

honcho's Manager stops every process when one exits and never restarts one, so only its
Printer is used here; starting, watching, restarting and stopping are ours.

It runs for as long as the services do, so it is kept small: `owui up` (typer, the profile's
pydantic models) prepares the children, then replaces itself (exec, same pid) with
`python -m owui.cli.supervisor FD`, which reads them from FD and imports no web framework,
no HTTP client and no models (readiness is a bare HTTP/1.1 GET on asyncio's streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

import orjson

from owui.cli.processes import (
    LINE_LIMIT,
    ServiceProcess,
    describe_exit,
    signal_group,
    spawn,
    terminate,
)
from owui.core.logging import render, wants_text

if TYPE_CHECKING:
    import ssl

    from honcho.printer import Printer

    from owui.cli.forkserver import ForkServer

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 30.0  # up this long, a crash is news again and backoff starts over
STOP_GRACE = 5.0
POLL_INTERVAL = 0.05
PROBE_TIMEOUT = 2.0
TAIL_LINES = 20
SELF = "owui"  # the name on the supervisor's own log lines


@dataclass(eq=False)
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    url: str
    address: tuple[str, int]  # where to connect: the url's host and port
    ready_path: str = "/readyz"
    forkable: bool = True  # an owui service; anything else (chroma) runs as a subprocess
    process: ServiceProcess | None = None
    colour: str | None = None
    restarts: int = 0
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    first_ready: asyncio.Future[None] | None = None


class StartFailed(Exception):
    """A service exited before it was ever ready: restarting would fail the same way."""


class Supervisor:
    def __init__(self, children: list[Child], *, ready_timeout: float, started_at: float,
                 output: TextIO | None = None, banner: str = "", footer: str = "",
                 use_fork_server: bool = True, migrate_env: dict[str, str] | None = None,
                 ) -> None:
        self.children = children
        self.use_fork_server = use_fork_server
        self.migrate_env = migrate_env  # for the migrations run before the services start
        self._fork_server: ForkServer | None = None
        self.banner = banner
        self.footer = footer  # printed under the table once all are ready
        self.ready_timeout = ready_timeout
        self.started_at = started_at
        self.output = output or sys.stdout
        self._stopping = asyncio.Event()
        self._hurry = asyncio.Event()
        self._printer: Printer | None = None
        self._probe_tls: ssl.SSLContext | None = None
        # The services always log JSON to us; we print it as it is, or in the short form on a
        # terminal (OWUI_LOG_FORMAT: json, text, auto; see core/logging.py).
        chosen = (children[0].env if children else os.environ).get("OWUI_LOG_FORMAT", "auto")
        self.readable = wants_text(chosen.strip().lower(), self.output)
        self.colour = self.readable and _isatty(self.output)
        for child in children:
            if child.forkable:
                child.env = {**child.env, "OWUI_LOG_FORMAT": "json"}

    async def run(self) -> int:
        """Start everything, report, supervise until a signal; the exit code for `owui up`."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal)
        monitors: list[asyncio.Task[None]] = []
        try:
            await self._prepare()
            await self._start_fork_server()
            await self._migrate()
            if self._stopping.is_set():
                return 0
            for child in self.children:
                child.first_ready = loop.create_future()
                child.process = await self._spawn(child)
            if self.banner:
                self.say(self.banner)
            monitors = [asyncio.create_task(self._supervise(c)) for c in self.children]
            code = await self._start_up()
            if code is None:
                await self._stopping.wait()
                code = 0
            return code
        finally:
            self._stopping.set()
            await asyncio.gather(*monitors, return_exceptions=True)
            for child in self.children:  # those never supervised, if start-up broke early
                if child.process is not None and child.process.returncode is None:
                    await terminate(child.process, STOP_GRACE, self._hurry)
            for child in self.children:
                _retrieve(child.first_ready)
            if self._fork_server is not None:
                await self._fork_server.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def _start_fork_server(self) -> None:
        """Fork the services from one process that has imported the framework; should it not
        start, each service runs as a plain subprocess instead."""
        if not self.use_fork_server or not self.children:
            return
        from owui.cli.forkserver import ForkServer

        server = ForkServer(LINE_LIMIT)
        try:
            await server.start(self.children[0].env)
        except OSError as exc:
            self.say(f"fork server unavailable ({exc}); starting services as subprocesses")
            await server.close()
            return
        self._fork_server = server

    async def _migrate(self) -> None:
        """Every service's migrations, in one short-lived child, before the services start:
        each then finds its schema at head without Alembic, which it would otherwise import
        and keep (several MB a service). Should this fail, each service migrates, and
        reports what is wrong, on its own."""
        if self.migrate_env is None:
            return
        step = Child(name="migrate", argv=[sys.executable, "-m", "owui", "migrate", "--quiet"],
                     env=self.migrate_env, url="", address=("", 0))
        try:
            process = await self._spawn(step)
        except OSError as exc:
            self.say(f"cannot run the migrations first ({exc}); each service runs its own")
            return
        pump = asyncio.create_task(self._pump(step, process))  # only failures are printed
        exited = asyncio.ensure_future(process.wait())
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({exited, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if process.returncode is None:
            await terminate(process, STOP_GRACE, self._hurry)
        await exited
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pump, 1.0)
        if process.returncode != 0 and not self._stopping.is_set():
            self.say(f"migrations failed ({describe_exit(process.returncode)}); each service "
                     "runs its own at start")

    async def _spawn(self, child: Child) -> ServiceProcess:
        if self._fork_server is not None and child.forkable:
            try:
                return await self._fork_server.spawn(child.argv, child.env)
            except OSError as exc:
                self.say(f"fork server failed ({exc}); starting {child.name} as a subprocess")
                server, self._fork_server = self._fork_server, None
                await server.close()
        return await spawn(child.argv, child.env)

    def _on_signal(self) -> None:
        if self._stopping.is_set():
            self._hurry.set()  # a second Ctrl-C: no more waiting for a graceful stop
        else:
            self.say("stopping all services")
        self._stopping.set()

    async def _prepare(self) -> None:
        from honcho.colour import get_colours
        from honcho.printer import Printer

        width = max(len(SELF), *(len(c.name) for c in self.children))
        self._printer = Printer(output=self.output, width=width)
        for child, colour in zip(self.children, get_colours(), strict=False):
            child.colour = colour
        # Plain http: no CA bundle to load (tens of ms at start). Under `owui up --tls`: the
        # services' CA and a service's certificate, which mutual TLS asks of every client.
        tls = next((c.env for c in self.children if c.url.startswith("https://")), None)
        if tls is not None:
            from owui.core.tls import probe_context

            self._probe_tls = probe_context(tls) or _unverified()

    async def _start_up(self) -> int | None:
        """None once all are ready; else the exit code (0 when stopped by a signal)."""
        waiting = {child.first_ready: child for child in self.children
                   if child.first_ready is not None}
        stop = asyncio.ensure_future(self._stopping.wait())
        deadline = time.monotonic() + self.ready_timeout
        pending: set[asyncio.Future[None]] = set(waiting)
        try:
            while pending and (remaining := deadline - time.monotonic()) > 0:
                done, _ = await asyncio.wait(pending | {stop}, timeout=remaining,
                                             return_when=asyncio.FIRST_COMPLETED)
                if stop in done:
                    return 0
                for future in done:
                    pending.discard(future)
                    if (failure := future.exception()) is not None:
                        self._report(waiting[future], str(failure))
                        return 1
        finally:
            stop.cancel()
        if pending:
            for child in self.children:
                if child.first_ready in pending:
                    self._report(child, f"was not ready within {self.ready_timeout:g} s")
            return 1
        self._print_table(time.monotonic() - self.started_at)
        return None

    async def _supervise(self, child: Child) -> None:
        """Keep one service running: restart it with backoff whenever it exits."""
        delay = BACKOFF_FIRST
        while True:
            if child.process is not None:
                started = time.monotonic()
                await self._watch(child, child.process)
                if self._stopping.is_set():
                    return
                how = describe_exit(child.process.returncode)
                assert child.first_ready is not None
                if not child.first_ready.done():
                    child.first_ready.set_exception(
                        StartFailed(f"exited ({how}) before it was ready"))
                    return
                if time.monotonic() - started >= STABLE_AFTER:
                    delay = BACKOFF_FIRST
                self.say(f"{child.name} exited ({how}); restarting in {delay:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            delay = min(delay * 2, BACKOFF_MAX)
            child.restarts += 1
            try:
                child.process = await self._spawn(child)
            except OSError as exc:  # say, out of processes or file descriptors: try later
                child.process = None
                self.say(f"cannot restart {child.name} ({exc}); next try in {delay:g} s")

    async def _watch(self, child: Child, process: ServiceProcess) -> None:
        """Until the process exits, or until stopping, when it is stopped here."""
        pump = asyncio.create_task(self._pump(child, process))
        watch = asyncio.create_task(self._watch_ready(child, process))
        exited = asyncio.ensure_future(process.wait())
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({exited, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        watch.cancel()
        if process.returncode is None:
            await terminate(process, STOP_GRACE, self._hurry)
        else:
            signal_group(process, signal.SIGKILL)  # whatever the exited service left behind
        await exited
        # Its last words belong in the tail before anyone reads it; a grandchild holding the
        # pipe open must not hold us up, though.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pump), 1.0)
        pump.cancel()

    async def _watch_ready(self, child: Child, process: ServiceProcess) -> None:
        assert child.first_ready is not None
        tls = self._probe_tls if child.url.startswith("https://") else None
        while process.returncode is None:
            if await _status(child, tls) == 200:
                if child.first_ready.done():
                    self.say(f"{child.name} ready again (pid {process.pid}, "
                             f"restart {child.restarts})")
                else:
                    child.first_ready.set_result(None)
                return
            await asyncio.sleep(POLL_INTERVAL)

    async def _pump(self, child: Child, process: ServiceProcess) -> None:
        """Copy the child's output, line by line, to the prefixed log and to its tail."""
        assert process.stdout is not None
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError:  # longer than the reader's limit; asyncio has dropped it
                continue
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if self.readable and text.startswith("{"):
                text = self._readable(text)
            child.tail.append(text)
            self._write(child.name, text, child.colour)

    def _readable(self, text: str) -> str:
        """A service's JSON line in the short form; anything else as it is."""
        try:
            entry = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        return render(entry, self.colour) if isinstance(entry, dict) else text

    def say(self, text: str) -> None:
        self._write(SELF, text, None)

    def _write(self, name: str, text: str, colour: str | None) -> None:
        if self._printer is None:
            return
        from honcho.printer import Message

        # A closed stdout (`owui up | head`) must not take the supervisor down with it.
        with contextlib.suppress(OSError, ValueError):
            self._printer.write(Message("line", text, datetime.now(), name, colour))

    def _report(self, child: Child, problem: str) -> None:
        lines = [f"owui: {child.name} {problem}"]
        if child.tail:
            lines.append(f"last {len(child.tail)} lines from {child.name}:")
            lines.extend(f"  {line}" for line in child.tail)
        else:
            lines.append(f"{child.name} wrote nothing")
        print("\n".join(lines), file=sys.stderr, flush=True)

    def _print_table(self, seconds: float) -> None:
        rows = [("service", "url", "pid", "status")] + [
            (c.name, c.url, str(c.process.pid) if c.process else "-", "ready")
            for c in self.children]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = ["owui services", *("  ".join([*(cell.ljust(width) for cell, width in zip(
            row, widths, strict=False)), row[3]]) for row in rows),
                 f"all {len(self.children)} ready in {seconds:.2f} s; Ctrl-C stops them"]
        if self.footer:
            lines.append(self.footer)
        with contextlib.suppress(OSError, ValueError):
            self.output.write("\n".join(lines) + "\n")
            self.output.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


async def _status(child: Child, tls: ssl.SSLContext | None) -> int | None:
    """The status of GET child.ready_path, None when there is no answer (yet): for the first
    second or so the port is not even open."""
    host, port = child.address
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=tls, server_hostname=urlsplit(child.url).hostname if tls else None)
            try:
                writer.write(f"GET {child.ready_path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                             "Connection: close\r\n\r\n".encode())
                status_line = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError, ValueError):
        return None
    parts = status_line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _unverified() -> ssl.SSLContext:
    """For https services without our CA: only whether they answer is asked."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_CHILD_FIELDS = ("name", "argv", "env", "url", "address", "ready_path", "forkable")


def run(children: list[Child], **options: Any) -> int:
    """Supervise until a signal; the exit code for `owui up`."""
    supervisor = Supervisor(children, **options)
    try:
        return asyncio.run(supervisor.run())
    finally:
        # Last resort, should the supervisor itself have failed: nothing may outlive `up`.
        for child in children:
            if child.process is not None and child.process.returncode is None:
                signal_group(child.process, signal.SIGKILL)


def become_lean(children: list[Child], **options: Any) -> None:
    """Replace this process (same pid, same output) by `python -m owui.cli.supervisor FD`,
    handing it the children through an in-memory file. Returns only where that cannot be
    done (no memfd_create: not Linux); the caller then supervises in this process."""
    if not hasattr(os, "memfd_create"):
        return
    spec = orjson.dumps({"children": [{k: getattr(c, k) for k in _CHILD_FIELDS}
                                      for c in children], "options": options})
    fd = os.memfd_create("owui-up", 0)
    with contextlib.suppress(OSError):
        view = memoryview(spec)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
        os.set_inheritable(fd, True)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "owui.cli.supervisor", str(fd)])
    os.close(fd)  # exec failed: supervise here instead


def main(fd: int) -> int:
    with os.fdopen(fd, "rb") as spec_file:
        spec = orjson.loads(spec_file.read())
    with contextlib.suppress(ImportError):
        from setproctitle import setproctitle

        setproctitle("owui up (supervisor)")
    children = [Child(**{**c, "address": tuple(c["address"])}) for c in spec["children"]]
    return run(children, **spec["options"])


def _retrieve(future: asyncio.Future[None] | None) -> None:
    """Mark a failure as seen, so asyncio does not warn about it at exit."""
    if future is not None and future.done() and not future.cancelled():
        future.exception()


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
