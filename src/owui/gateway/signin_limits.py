"""Failed sign-ins per account (SIGNIN_ACCOUNT_RATE_LIMIT, 15 per 3 minutes as Open WebUI),
on top of the per-address limit: guesses spread over many addresses meet a limit on the account.

Only failures count (the owner signing in often meets nothing), in the limiter's storage, so
replicas sharing REDIS_URL share the count. A stranger who fails on purpose must not lock the
owner out: a successful sign-in gives the browser a device cookie, signed with the gateway's
secret and bound to the account, and attempts that carry it count in a budget of their own
(per account and device). A stranger cannot forge it, so the owner's own browser still signs in
while the account's shared budget is spent; a client without it waits the window at most.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from http.cookies import CookieError, SimpleCookie

from starlette.types import Message, Scope, Send

from owui.core.asgi import header, send_error
from owui.core.jsonbody import loads
from owui.gateway.credentials import is_secure
from owui.gateway.ratelimit import RateLimiter

SIGNIN_PATH = "/api/v1/auths/signin"
DEVICE_COOKIE = "owui-device"
_DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
_COOKIE_PATH = "/api/v1/auths"  # sent with sign-ins only


def account_of(body: bytes | None) -> str | None:
    """The email a sign-in is for, normalised; None when the body says none (the route
    answers 422 for that)."""
    try:  # orjson, as the front door's check: deep nesting that it accepts is no error here
        email = loads(body or b"").get("email")
    except (ValueError, AttributeError):
        return None
    return email.strip().lower() if isinstance(email, str) and email.strip() else None


def _mac(secret: str, email: str, nonce: str) -> str:
    digest = hmac.new(secret.encode(), f"device|{email}|{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:18]).decode()


def _device(scope: Scope, secret: str, email: str) -> str | None:
    """The nonce of a device cookie that this account's sign-in gave, else None."""
    raw = header(scope, b"cookie")
    if not raw or DEVICE_COOKIE not in raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(DEVICE_COOKIE)
    nonce, _, mac = (morsel.value if morsel else "").partition(".")
    return nonce if nonce and hmac.compare_digest(mac, _mac(secret, email, nonce)) else None


def _device_cookie(scope: Scope, secret: str, email: str) -> tuple[bytes, bytes]:
    nonce = secrets.token_urlsafe(12)
    value = (f"{DEVICE_COOKIE}={nonce}.{_mac(secret, email, nonce)}; Max-Age={_DEVICE_MAX_AGE}; "
             f"Path={_COOKIE_PATH}; HttpOnly; SameSite=Lax" + ("; Secure" if is_secure(scope)
                                                                else ""))
    return b"set-cookie", value.encode()


class AccountGuard:
    """One sign-in attempt: refused before the password is checked when the account's (or
    this device's) failures are spent; counts a failure, gives a device cookie on success."""

    def __init__(self, limiter: RateLimiter, secret: str, scope: Scope, email: str) -> None:
        self.limiter = limiter
        self.secret = secret
        self.scope = scope
        self.email = email
        device = _device(scope, secret, email)
        self.key = f"signin-account:{email}" + (f":{device}" if device else "")

    async def refused(self, send: Send) -> bool:
        retry_after = await self.limiter.refused(self.limiter.signin_account, self.key)
        if retry_after is None:
            return False
        await send_error(send, 429, "Too many failed sign-ins to this account; retry in "
                                    f"{retry_after} s.",
                         [(b"retry-after", str(retry_after).encode())])
        return True

    def watching(self, send: Send) -> Send:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 401:
                    await self.limiter.count(self.limiter.signin_account, self.key)
                elif status == 200:
                    message = {**message, "headers": [
                        *message.get("headers", []),
                        _device_cookie(self.scope, self.secret, self.email)]}
            await send(message)
        return watched
