"""The CLI through real processes and sockets: serve, up (supervision included), status."""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import typer

import owui
from owui.cli.ports import resolve_ports
from owui.cli.profiles import ProfileError, load_profile
from owui.cli.up import child_env
from owui.core.services import NAMES
from tests.helpers_cli import (
    UpStack,
    clean_env,
    free_ports,
    port_args,
    ready,
    run_owui,
    running_stack,
    wait_until,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpStack]:
    """One `owui up` for the module; the last test stops it and checks nothing is left."""
    with running_stack(tmp_path_factory.mktemp("up")) as up:
        yield up


def test_up_starts_all_five_and_prints_where(stack: UpStack) -> None:
    assert set(stack.services()) == set(NAMES)
    log = stack.log()
    assert re.search(r"all 5 ready in \d+\.\d\d s", log)
    for name in NAMES:
        assert stack.url(name) in log
        # Prefixed per-service lines, as honcho prints them.
        assert re.search(rf"^\d\d:\d\d:\d\d {name}\s*\| ", log, re.MULTILINE)
    # One signing key, made before the services started, shared by all.
    assert (stack.data_dir / "jwt_secret").read_text().strip()


def test_every_service_refuses_a_request_without_token(stack: UpStack) -> None:
    for name in NAMES:
        response = httpx.get(f"{stack.url(name)}/api/v1/no-such-path", timeout=10)
        assert response.status_code == 401, (name, response.text)


def test_status_of_the_running_stack(stack: UpStack) -> None:
    result = run_owui("status", "--timeout", "10", *port_args(stack.ports))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in NAMES:
        assert re.search(rf"{name}\s.*{re.escape(stack.url(name))}\s.*ready", result.stdout)


def test_services_are_forks_of_one_fork_server(stack: UpStack) -> None:
    services = stack.services()
    up = psutil.Process(stack.process.pid)
    servers = [p for p in up.children() if "owui fork-server" in " ".join(p.cmdline())]
    assert len(servers) == 1
    assert {s.ppid() for s in services.values()} == {servers[0].pid}


def test_up_without_the_fork_server(tmp_path: Path) -> None:
    up = UpStack.start(tmp_path, "--no-fork-server")
    try:
        up.wait_ready()
        assert {s.ppid() for s in up.services().values()} == {up.process.pid}
        assert up.stop() == 0
        assert up.left_behind() == []
    finally:
        up.kill_everything()


def test_restart_after_a_crash_then_sigterm_leaves_nothing(stack: UpStack) -> None:
    # Last in this module: it ends the shared stack.
    victim = stack.services()["chat"]
    victim.send_signal(signal.SIGKILL)

    def restarted() -> bool:
        now = stack.services().get("chat")
        return now is not None and now.pid != victim.pid and ready(stack.url("chat"))

    wait_until(restarted, 90, "chat restarted and ready", log=stack.log)
    wait_until(lambda: "chat ready again" in stack.log(), 30, "restart logged", log=stack.log)
    assert "chat exited (killed by SIGKILL); restarting in" in stack.log()
    assert all(ready(stack.url(name)) for name in NAMES)

    # owui up, the fork server, five services and the new chat, all checked below
    assert len(stack.seen) >= 8
    assert stack.stop() == 0, stack.log()[-4000:]
    assert stack.left_behind() == []


@pytest.mark.parametrize("sig", [
    signal.SIGINT,
    pytest.param(signal.SIGKILL, marks=pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")),
], ids=["ctrl-c", "sigkill"])
def test_no_service_outlives_up(sig: signal.Signals, tmp_path: Path) -> None:
    up = UpStack.start(tmp_path)
    try:
        up.wait_ready()
        up.process.send_signal(sig)
        # Ctrl-C is a clean stop; a SIGKILLed `owui up` cannot clean up, so the kernel's
        # parent-death signal must end the services.
        assert up.process.wait(60) == (0 if sig == signal.SIGINT else -signal.SIGKILL)
        wait_until(lambda: not up.left_behind(), 30, "every service gone", log=up.log)
    finally:
        up.kill_everything()


def test_status_when_nothing_runs() -> None:
    ports = dict(zip(NAMES, free_ports(len(NAMES)), strict=True))
    result = run_owui("status", *port_args(ports))
    assert result.returncode == 1
    assert result.stdout.count("down") == len(NAMES)


def test_version() -> None:
    result = run_owui("--version")
    assert result.returncode == 0
    assert result.stdout == f"owui {owui.__version__}\n"


def test_serve_on_a_busy_port_says_which() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_owui("serve", "chat", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == f"owui: port {port} for chat is already in use on 127.0.0.1"


def test_serve_unknown_service_lists_the_valid_ones() -> None:
    result = run_owui("serve", "chatter")
    assert result.returncode == 2
    assert "chatter" in result.stderr and ", ".join(NAMES) in result.stderr


def test_serve_with_an_invalid_setting_names_the_variable(tmp_path: Path) -> None:
    [port] = free_ports(1)
    result = run_owui("serve", "chat", "--port", str(port), "--data-dir", str(tmp_path),
                      env=clean_env(JWT_EXPIRES_IN="bad"))
    assert result.returncode != 0
    assert "JWT_EXPIRES_IN" in result.stderr
    assert "Traceback" not in result.stderr


def test_up_with_a_busy_port_names_service_and_port(tmp_path: Path) -> None:
    ports = dict(zip(NAMES, free_ports(len(NAMES)), strict=True))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["retrieval"]))
        taken.listen()
        result = run_owui("up", "--data-dir", str(tmp_path), *port_args(ports))
    assert result.returncode == 1
    assert f"port {ports['retrieval']} for retrieval is already in use" in result.stderr
    assert not (tmp_path / "jwt_secret").exists()  # nothing was started


def test_up_stops_everything_when_a_service_cannot_start(tmp_path: Path) -> None:
    up = UpStack.start(tmp_path, env=clean_env(JWT_EXPIRES_IN="bad"))
    try:
        code = up.process.wait(90)
        log = up.log()
        assert code == 1, log
        assert "before it was ready" in log and "JWT_EXPIRES_IN" in log
        wait_until(lambda: not up.left_behind(), 10, "no service left")
    finally:
        up.kill_everything()


def test_ports_from_a_base_and_overrides() -> None:
    assert resolve_ports(None, None) == dict(zip(NAMES, range(8000, 8005), strict=True))
    assert resolve_ports(9100, ["chat=9200"]) == {
        "gateway": 9100, "inference": 9101, "agent": 9102, "retrieval": 9103, "chat": 9200}
    for bad in (["chat"], ["chat=x"], ["nope=9000"], ["chat=8000"], ["chat=70000"]):
        with pytest.raises(typer.BadParameter):
            resolve_ports(None, bad)


def test_profiles_by_name_or_path(tmp_path: Path) -> None:
    local = load_profile("local")
    assert local.name == "local" and local.env["VECTOR_DB"] == "lancedb"
    custom = tmp_path / "mine.yaml"
    custom.write_text("name: mine\nenv:\n  ENABLE_OLLAMA_API: false\n  RAG_TOP_K: 7\n")
    mine = load_profile(str(custom))
    assert mine.env == {"ENABLE_OLLAMA_API": "false", "RAG_TOP_K": "7"}
    with pytest.raises(ProfileError, match="local"):
        load_profile("no-such-profile")


def test_child_env_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = load_profile("local")
    monkeypatch.setenv("DEFAULT_USER_ROLE", "pending")  # the user's own setting wins
    monkeypatch.setenv("CHAT_SERVICE_URL", "http://elsewhere:1")  # but `up` decides this one
    ports = resolve_ports(9100, None)
    env = child_env(profile, tmp_path, "0.0.0.0", ports)
    assert env["DEFAULT_USER_ROLE"] == "pending"
    assert env["VECTOR_DB"] == "lancedb"
    assert env["CHAT_SERVICE_URL"] == "http://127.0.0.1:9104"
    assert env["OWUI_DATA_DIR"] == str(tmp_path.resolve())
    assert env["PATH"] == os.environ["PATH"]
