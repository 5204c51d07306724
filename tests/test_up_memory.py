"""An idle `owui up` stays light (PSS of its whole tree): a lean supervisor, a fork server that
rests once the services are forked and comes back for a restart, and services that never ran
Alembic (`up` migrates in a child of its own first). The bound is issue 19's target; the figure
itself is bench/memory.py's (278 MB in the dev venv when the bound was set), which shows each
process: the bound catches a regression such as a heavy import at start."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from owui.cli.forkserver import REST_AFTER
from owui.core.services import NAMES
from tests.helpers_cli import UpStack, ready, running_stack, wait_until

BOUND_MB = 300
MB = 1024 * 1024


def _pss(pid: int) -> int:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return next(int(line.split()[1]) * 1024 for line in text.splitlines()
                if line.startswith("Pss:"))


def _fork_server(stack: UpStack) -> psutil.Process:
    (server,) = psutil.Process(stack.process.pid).children()
    return server


def _at_rest(stack: UpStack) -> bool:
    """The fork server's title says so (for a moment while it execs, it says neither)."""
    return "owui fork-server (at rest)" in " ".join(_fork_server(stack).cmdline())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpStack]:
    with running_stack(tmp_path_factory.mktemp("up-memory")) as up:
        yield up


def test_idle_up_stays_light(stack: UpStack) -> None:
    wait_until(lambda: _at_rest(stack), REST_AFTER + 30, "the fork server at rest",
               log=stack.log)
    supervisor = psutil.Process(stack.process.pid)
    assert "owui up (supervisor)" in " ".join(supervisor.cmdline())  # the lean one, same pid
    tree = [stack.process.pid, *(p.pid for p in supervisor.children(recursive=True))]
    assert len(tree) == 2 + len(NAMES)
    total = sum(map(_pss, tree)) / MB
    assert total <= BOUND_MB, f"{total:.1f} MB (bench/memory.py shows each process)"
    # Alembic logs as it runs: no service did (its migrations ran before, in `up`'s own child).
    assert '"logger": "alembic' not in stack.log()
    assert all(ready(stack.url(name)) for name in NAMES)  # on a schema at head


def test_a_restart_wakes_the_fork_server_then_it_rests_again(stack: UpStack) -> None:
    wait_until(lambda: _at_rest(stack), REST_AFTER + 30, "the fork server at rest",
               log=stack.log)
    server = _fork_server(stack)
    victim = stack.services()["inference"]
    victim.send_signal(signal.SIGKILL)

    def restarted() -> bool:
        now = stack.services().get("inference")
        return now is not None and now.pid != victim.pid and ready(stack.url("inference"))

    wait_until(restarted, 90, "inference restarted and ready", log=stack.log)
    assert stack.services()["inference"].ppid() == server.pid  # forked by the same server
    wait_until(lambda: _at_rest(stack), REST_AFTER + 30, "at rest again", log=stack.log)
    assert all(ready(stack.url(name)) for name in NAMES)
    assert stack.stop() == 0
    assert stack.left_behind() == []
