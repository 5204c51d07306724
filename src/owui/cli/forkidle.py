"""The fork server at rest: `python -m owui.cli.forkidle FD`, what forkserver.py becomes (exec,
same pid) once it has forked the services and no request has come for a few seconds.

Forked children copy, page by page, whatever they write of the server's memory; after a few
seconds every service has written most of it, and the server's own copy (~30 MB) served no one.
So the server replaces itself with this small loop, which only reaps children and reports
their exits. A spawn request (a restart) turns it back into the full server (exec again; the
request waits in the socket meanwhile), which imports the framework anew and forks.
Linux keeps the parent-death signal across exec, so the services still die with us.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys


def reap(server: socket.socket) -> None:
    """Report every child that has exited (only the parent can reap them)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        server.sendall(json.dumps({"op": "exited", "pid": pid, "code": code}).encode() + b"\n")


def exec_module(module: str, fd: int, *args: str) -> None:
    """Become `python -m module FD ...`, keeping the supervisor's socket (and our children)."""
    os.set_inheritable(fd, True)
    os.execv(sys.executable, [sys.executable, "-m", module, str(fd), *args])


def wake_on_signals() -> int:
    """A pipe that a SIGCHLD writes to, for select(); its read end."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    return wake_read


def rest(fd: int) -> None:
    try:
        from setproctitle import setproctitle

        setproctitle("owui fork-server (at rest)")
    except ImportError:
        pass
    server = socket.socket(fileno=fd)
    wake = wake_on_signals()
    reap(server)  # any that exited while we were exec'ing
    while True:
        readable, _, _ = select.select([server, wake], [], [])
        if wake in readable:
            os.read(wake, 4096)
            reap(server)
        if server in readable:
            if not server.recv(1, socket.MSG_PEEK):
                return  # the supervisor is gone: our children get SIGTERM as we exit
            exec_module("owui.cli.forkserver", fd, "--again")


if __name__ == "__main__":
    rest(int(sys.argv[1]))
