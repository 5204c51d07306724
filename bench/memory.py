"""Memory of an idle `owui up`: every process of its tree, and their sum, in PSS.

    .venv/bin/python bench/memory.py [--idle 10] [--runs 1]

Starts `owui up` (default profile, a fresh data dir, loopback, free ports) as a user would,
waits until all five services answer /readyz, lets it idle `--idle` seconds, then reads
`Pss` from /proc/PID/smaps_rollup of the supervisor and of every process below it (the fork
server, the five services). PSS splits each shared page between the processes that share it
(the fork server's children share its imports copy-on-write), so the sum is what the tree
takes. Target (issue 19): the sum at most 300 MB. With --runs N, each figure is a median.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from _common import (
    PYTHON,
    Processes,
    descendants,
    free_port_block,
    load_average,
    median,
    pss_bytes,
    rss_bytes,
)
from gateway import process_name, service_urls, wait_all_ready
from owui.core.services import SERVICES

TARGET_MB = 300.0
MB = 1024 * 1024


def one_run(idle: float) -> dict[str, tuple[float, float]]:
    """(RSS, PSS) in MB of each process of an idle `owui up`, by name."""
    base = free_port_block(len(SERVICES) + 1)
    with tempfile.TemporaryDirectory(prefix="owui-bench-memory-") as tmp, \
            Processes(Path(tmp) / "logs") as procs:
        up = procs.start("up", [PYTHON, "-m", "owui", "up", "--data-dir", f"{tmp}/data",
                                "--base-port", str(base)], {"JWT_SECRET_KEY": ""})
        try:
            wait_all_ready(service_urls(base), lambda: up.popen.poll() is None, timeout=120)
        except (RuntimeError, TimeoutError) as exc:
            raise SystemExit(f"owui up did not get ready: {exc}\n{up.log_tail()}") from None
        time.sleep(idle)
        found: dict[str, tuple[float, float]] = {}
        for pid in [up.popen.pid, *descendants(up.popen.pid)]:
            name = "supervisor" if pid == up.popen.pid else process_name(pid)
            name = f"{name} ({pid})" if name in found else name
            found[name] = (rss_bytes(pid) / MB, pss_bytes(pid) / MB)
        up.stop(15)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"load average before start: {load_average():.2f}")
    runs = [one_run(args.idle) for _ in range(args.runs)]
    names = list(runs[0])
    table = Table(title=f"Idle `owui up` after {args.idle:g} s, MB (median of {args.runs})",
                  title_justify="left")
    for column in ("process", "RSS", "PSS"):
        table.add_column(column, justify="left" if column == "process" else "right")
    for name in names:
        rss = median([run[name][0] for run in runs if name in run])
        pss = median([run[name][1] for run in runs if name in run])
        table.add_row(name, f"{rss:.1f}", f"{pss:.1f}")
    total = median([sum(pss for _rss, pss in run.values()) for run in runs])
    table.add_row("[b]all (PSS sum)[/b]", "", f"[b]{total:.1f}[/b]")
    Console(width=100).print(table)
    print(f"PSS of the whole tree: {total:.1f} MB (target <= {TARGET_MB:g} MB: "
          f"{'met' if total <= TARGET_MB else 'NOT met'})")


if __name__ == "__main__":
    main()
