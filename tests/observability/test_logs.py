"""`owui up` prints one short line per event on a terminal (time, service, level, message,
request id), coloured, and the services' JSON lines when its output is not a terminal;
OWUI_LOG_LEVEL_<SERVICE> sets one service's level."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from owui.core.services import NAMES
from tests.helpers_cli import REPO, UpStack, clean_env, free_ports, port_args

ANSI = re.compile(r"\x1b\[[0-9;]*m")
READABLE = re.compile(r"^\d\d:\d\d:\d\d (\w+)\s*\| (DEBUG|INFO|WARNING|ERROR)\s+\S")


def read_until(fd: int, process: subprocess.Popen[bytes], done: str, timeout: float) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and done.encode() not in ANSI.sub("", seen.decode(
            errors="replace")).encode():
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the other end closed: owui up exited
                break
        elif process.poll() is not None:
            break
    return seen.decode(errors="replace")


def test_up_on_a_terminal_prints_short_coloured_lines(tmp_path: Path) -> None:
    ports = dict(zip(NAMES, free_ports(len(NAMES)), strict=True))
    master, slave = pty.openpty()
    env = clean_env(OWUI_LOG_LEVEL_CHAT="warning", TERM="xterm-256color")
    env.pop("OWUI_LOG_FORMAT", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "owui", "up", "--data-dir", str(tmp_path / "data"),
         *port_args(ports)], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env,
        cwd=REPO)
    os.close(slave)
    try:
        output = read_until(master, process, "ready in", 180)
        assert "ready in" in ANSI.sub("", output), output[-3000:]
        answer = httpx.get(f"http://127.0.0.1:{ports['gateway']}/api/version",
                           headers={"X-Request-ID": "look-for-me-1234"}, timeout=10)
        assert answer.status_code == 200
        output += read_until(master, process, "look-for-me", 20)
    finally:
        process.send_signal(signal.SIGINT)
        output_tail = read_until(master, process, "never printed", 15)
        process.wait(30)
        os.close(master)
    output += output_tail
    assert "\x1b[" in output  # coloured
    lines = [ANSI.sub("", line) for line in output.splitlines()]
    readable = [m for m in map(READABLE.match, lines) if m]
    services = {m[1] for m in readable}
    assert {"gateway", "inference", "agent", "retrieval"} <= services, output[-3000:]
    assert not any(re.search(r"\| \{\"ts\"", line) for line in lines), output[-3000:]
    # The access line of that request: method, path, status, time, then its request id.
    access = [line for line in lines if "look-for-me" in line]
    assert access and re.search(r"gateway\s*\| INFO\s+GET /api/version 200 [\d.]+ ms "
                                r"req=look-for-me-", access[0]), access
    # OWUI_LOG_LEVEL_CHAT=warning: no INFO line from chat, while the others say theirs.
    assert not any(m[1] == "chat" and m[2] == "INFO" for m in readable)
    assert any(m[1] == "gateway" and m[2] == "INFO" for m in readable)


def test_up_piped_prints_the_services_json(tmp_path: Path) -> None:
    env = clean_env()
    env.pop("OWUI_LOG_FORMAT", None)
    stack = UpStack.start(tmp_path, env=env)
    try:
        stack.wait_ready()
        httpx.get(f"{stack.url('gateway')}/api/version",
                  headers={"X-Request-ID": "piped-request-1"}, timeout=10)
        time.sleep(1)
        log = stack.log()
    finally:
        stack.stop()
        stack.kill_everything()
    entries = []
    for line in log.splitlines():
        match = re.match(r"^\d\d:\d\d:\d\d (\w+)\s*\| (\{.*)$", line)
        if match and match[1] in NAMES:
            entry = json.loads(match[2])
            assert entry["service"] == match[1] and entry["level"] and "msg" in entry
            entries.append(entry)
    assert {e["service"] for e in entries} == set(NAMES)
    assert any(e.get("request_id") == "piped-request-1" and e.get("path") == "/api/version"
               for e in entries)
    assert "\x1b[" not in log
