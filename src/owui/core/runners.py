"""Who runs a piece of background work: "host:pid:boot", so that after a crash or a restart a
service can tell the work of a dead process on its host (to mark it interrupted) from the work
of a live one. Work of another host is judged by its age or heartbeat, by the caller."""

from __future__ import annotations

import os
import socket
import uuid

HOST = socket.gethostname()
_identity: tuple[int, str] = (0, "")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def boot() -> str:
    """This process's own random id, made anew in a forked child (a fork server may have
    imported this module before forking the service)."""
    global _identity
    if _identity[0] != os.getpid():
        _identity = (os.getpid(), uuid.uuid4().hex[:8])
    return _identity[1]


def runner() -> str:
    return f"{HOST}:{os.getpid()}:{boot()}"


def runner_dead(runner: str | None) -> bool:
    """True when the runner was a process of this host that no longer runs."""
    parts = (runner or "").rsplit(":", 2)
    if len(parts) != 3 or parts[0] != HOST or not parts[1].isdigit():
        return False  # another host's: only its silence tells
    if int(parts[1]) == os.getpid():
        return parts[2] != boot()  # this pid in an earlier life (a restarted container)
    return not pid_alive(int(parts[1]))
