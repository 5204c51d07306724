"""`owui up --tls`: the certificates made on first use under the data dir, every service over
HTTPS, the gateway reaching chat over HTTPS, and nothing left behind on SIGTERM."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from owui.core.services import NAMES
from tests.conftest import bearer
from tests.helpers_cli import UpStack, clean_env, port_args, run_owui, wait_until


def test_up_with_tls_serves_https_everywhere(tmp_path: Path) -> None:
    up = UpStack.start(tmp_path, "--tls")
    try:
        wait_until(lambda: "ready in" in up.log() or not up.alive(), 120, "owui up --tls ready",
                   log=up.log)
        assert up.alive(), up.log()[-4000:]
        ca = ssl.create_default_context(cafile=str(up.data_dir / "tls" / "ca.pem"))
        assert (up.data_dir / "tls" / "chat-key.pem").stat().st_mode & 0o077 == 0
        for name in NAMES:
            url = f"https://127.0.0.1:{up.ports[name]}"
            assert url in up.log()  # the table shows where, with its scheme
            assert httpx.get(f"{url}/readyz", verify=ca, timeout=10).status_code == 200
        gateway = f"https://127.0.0.1:{up.ports['gateway']}"
        account = httpx.post(f"{gateway}/api/v1/auths/signup", verify=ca, timeout=30,
                             json={"name": "U", "email": "up@tls.test", "password": "pw-123456"})
        assert account.status_code == 200, account.text
        chats = httpx.get(f"{gateway}/api/v1/chats/", verify=ca, timeout=30,
                          headers=bearer(account.json()["token"]))
        assert chats.status_code == 200, chats.text  # gateway -> chat over HTTPS
    finally:
        code = up.stop()
        left = up.left_behind()
        up.kill_everything()
    assert code == 0 and not left, up.log()[-3000:]


def test_up_with_tls_runs_mutual_tls(tmp_path: Path) -> None:
    # The services behind the gateway ask every client for a certificate: the supervisor's
    # readiness probe presents one, so the stack comes up; `owui status --tls` does too.
    up = UpStack.start(tmp_path, "--tls", env=clean_env(OWUI_TLS_REQUIRE_CLIENT_CERT="true"))
    try:
        wait_until(lambda: "ready in" in up.log() or not up.alive(), 120,
                   "owui up --tls (mutual TLS) ready", log=up.log)
        assert up.alive(), up.log()[-4000:]
        tls = up.data_dir / "tls"
        ca = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        chat = f"https://127.0.0.1:{up.ports['chat']}/readyz"
        try:  # no client certificate: refused in the handshake (or its first read)
            refused = httpx.get(chat, verify=ca, timeout=10).status_code != 200
        except httpx.HTTPError:
            refused = True
        assert refused
        ours = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        ours.load_cert_chain(str(tls / "agent.pem"), str(tls / "agent-key.pem"))
        assert httpx.get(chat, verify=ours, timeout=10).status_code == 200
        gateway = f"https://127.0.0.1:{up.ports['gateway']}"  # public: no certificate asked
        account = httpx.post(f"{gateway}/api/v1/auths/signup", verify=ca, timeout=30,
                             json={"name": "U", "email": "mtls@tls.test", "password": "pw-123456"})
        assert account.status_code == 200, account.text
        chats = httpx.get(f"{gateway}/api/v1/chats/", verify=ca, timeout=30,
                          headers=bearer(account.json()["token"]))
        assert chats.status_code == 200, chats.text  # gateway -> chat over mutual TLS
        status = run_owui("status", "--tls", "--data-dir", str(up.data_dir), "--timeout", "10",
                          *port_args(up.ports))
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"https://127.0.0.1:{up.ports['chat']}" in status.stdout
        plain = run_owui("status", "--timeout", "10", *port_args(up.ports),
                         env=clean_env(COLUMNS="300"))  # the hint on one line
        assert plain.returncode == 1 and "try --tls" in plain.stdout, plain.stdout
    finally:
        code = up.stop()
        left = up.left_behind()
        up.kill_everything()
    assert code == 0 and not left, up.log()[-3000:]
