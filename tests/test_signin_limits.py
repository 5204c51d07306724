"""Failed sign-ins per account (15 per 3 minutes by default), on top of the per-address limit:
shared by replicas through Redis, and a stranger's failures do not lock the owner's browser out."""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import httpx

from owui.core.passwords import HASH_NICE, LANES
from tests.conftest import bearer, signup
from tests.test_ratelimit import REDIS_URL

PASSWORD = "correct-horse"
# Sign-ins per address unlimited here: every request comes from 127.0.0.1.
MANY = {"SIGNIN_RATE_LIMIT": "100000/minute"}


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _signin(url: str, email: str, password: str,
            cookies: httpx.Cookies | None = None) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/auths/signin", cookies=cookies,
                      json={"email": email, "password": password})


def test_failures_per_account_are_limited(make_gateway) -> None:
    gw = make_gateway(**MANY).url
    victim, other = _email(), _email()
    signup(gw, email=victim)
    signup(gw, email=other)
    statuses = [_signin(gw, victim, f"guess-{i}").status_code for i in range(15)]
    assert statuses == [401] * 15
    refused = _signin(gw, victim.upper(), PASSWORD)  # the account, however it is spelled
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 180
    assert "sign-ins" in refused.json()["detail"]
    # Another account, and an address that never failed, are not limited by this one.
    assert _signin(gw, other, PASSWORD).status_code == 200


def test_successful_signins_do_not_count(make_gateway) -> None:
    gw = make_gateway(**MANY).url
    email = _email()
    signup(gw, email=email)
    assert {_signin(gw, email, PASSWORD).status_code for _ in range(20)} == {200}


def test_the_owners_browser_still_signs_in_while_a_stranger_fails(make_gateway) -> None:
    gw = make_gateway(**MANY).url
    email = _email()
    signup(gw, email=email)
    owner = _signin(gw, email, PASSWORD)
    assert owner.status_code == 200
    device = owner.cookies.get("owui-device")
    assert device and "HttpOnly" in owner.headers["set-cookie"]
    for _ in range(15):
        assert _signin(gw, email, "stranger-guess").status_code == 401
    assert _signin(gw, email, PASSWORD).status_code == 429  # no device cookie: waits
    jar = httpx.Cookies({"owui-device": device})
    assert _signin(gw, email, PASSWORD, jar).status_code == 200
    # The cookie is bound to its account and cannot be forged for another.
    nonce = device.split(".", 1)[0]
    assert _signin(gw, email, PASSWORD, httpx.Cookies(
        {"owui-device": f"{nonce}.forged"})).status_code == 429


def test_replicas_share_the_count_through_redis(make_gateway, tmp_path) -> None:
    shared = tmp_path / "shared"
    env = {**MANY, "REDIS_URL": REDIS_URL}
    one, two = make_gateway(data_dir=shared, **env), make_gateway(data_dir=shared, **env)
    email = _email()
    signup(one.url, email=email)
    statuses = [_signin((one, two)[i % 2].url, email, "guess").status_code for i in range(15)]
    assert statuses == [401] * 15
    assert _signin(one.url, email, PASSWORD).status_code == 429
    assert _signin(two.url, email, PASSWORD).status_code == 429


def _nice_values(pid: int) -> list[int]:
    """The nice value of each thread of a process (field 19 of /proc/PID/task/TID/stat)."""
    values = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        with suppress(OSError):
            values.append(int(stat.read_text().rsplit(")", 1)[1].split()[16]))
    return values


def test_password_hashing_yields_the_cpu_to_other_requests(make_gateway) -> None:
    """The hashing threads run at a lower priority than the event loop, so a burst of sign-ins
    does not starve other requests (measured: bench/load.py --signin-burst 50); a hash runs
    its 4 lanes in threads of its own, so the pool hashes one at a time per 4 cores."""
    gateway = make_gateway(**MANY)
    email = _email()
    token = signup(gateway.url, email=email)["token"]
    finished: list[float] = []

    def sign_in(_: int) -> int:
        status = _signin(gateway.url, email, PASSWORD).status_code
        finished.append(time.monotonic())
        return status

    with ThreadPoolExecutor(8) as burst:
        statuses = burst.map(sign_in, range(8))
        time.sleep(0.05)  # the sign-ins are in, queued for the hasher
        me = httpx.get(f"{gateway.url}/api/v1/auths/", headers=bearer(token))
        answered = time.monotonic()
        assert list(statuses) == [200] * 8
    assert me.status_code == 200
    assert answered < max(finished)  # not behind the queue of hashes
    nice = _nice_values(gateway.process.pid)
    assert 0 in nice  # the event loop's
    # What stays once the lanes are done: the pool's threads, at the lower priority.
    assert nice.count(HASH_NICE) == max(1, (os.cpu_count() or 1) // LANES)


def test_a_malformed_signin_body_is_a_clear_error(make_gateway) -> None:
    """The account is read from the body before the route: JSON the front door accepts but
    Python's json would not read back (nested 1,020 deep), or no email in it, is the route's
    422, never a 500."""
    gw = make_gateway(**MANY).url
    for body in (b"[" * 1020 + b"]" * 1020, b'{"email": ["x"]}', b'"x"', b"{}"):
        response = httpx.post(f"{gw}/api/v1/auths/signin", content=body,
                              headers={"content-type": "application/json"})
        assert response.status_code in (400, 422), (body[:20], response.text[:200])
