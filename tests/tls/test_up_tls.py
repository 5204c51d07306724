"""`owui up --tls`: the certificates made on first use under the data dir, every service over
HTTPS, the gateway reaching chat over HTTPS, and nothing left behind on SIGTERM."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from owui.core.services import NAMES
from tests.conftest import bearer
from tests.helpers_cli import UpStack, wait_until


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
