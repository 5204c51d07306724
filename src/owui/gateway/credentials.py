"""The caller's credential: the bearer header (or `x-api-key`), else the web app's `token` cookie,
and the rules that come with a cookie (it is sent by the browser on its own, so a page of another
site could make it act: a request that changes state must come from this app's own origin).

The cookie is httpOnly and SameSite=Lax, and Secure when the request came over HTTPS: as the
gateway saw it, or as a trusted proxy's `X-Forwarded-Proto` says. Which proxies are trusted is
uvicorn's `FORWARDED_ALLOW_IPS` (default 127.0.0.1): it rewrites the scope's scheme and client
from their `X-Forwarded-*` headers before the gateway sees the request.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import NamedTuple

from starlette.types import Scope

from owui.core.asgi import header
from owui.core.tokens import bearer_token

COOKIE = "token"
# What the web app sends before sign-in: `Authorization: Bearer ${localStorage.token}`.
_NO_TOKEN = frozenset({"undefined", "null"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE_DETAIL = ("A request that changes state with the session cookie must come from this "
                     "app's own pages (its Origin or Sec-Fetch-Site says it did not); other "
                     "clients send the token as 'Authorization: Bearer ...'.")


class Credential(NamedTuple):  # a tuple: made on every request, cheaper than a dataclass
    token: str
    from_cookie: bool


def credential_of(scope: Scope) -> Credential | None:
    token = bearer_token(header(scope, b"authorization"))
    if token is not None and token not in _NO_TOKEN:
        return Credential(token, from_cookie=False)
    # Anthropic's clients send their key as `x-api-key` (Open WebUI takes it there too).
    key = header(scope, b"x-api-key")
    if key and key not in _NO_TOKEN:
        return Credential(key, from_cookie=False)
    cookie = cookie_token(header(scope, b"cookie"))
    return Credential(cookie, from_cookie=True) if cookie else None


def cookie_token(raw: str | None) -> str | None:
    if not raw or COOKIE not in raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:  # a malformed Cookie header is no credential, not an error
        return None
    morsel = jar.get(COOKIE)
    value = morsel.value.strip() if morsel else ""
    return value if value and value not in _NO_TOKEN else None


def is_secure(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss")


def own_origin(scope: Scope) -> str | None:
    host = header(scope, b"host")
    if not host:
        return None
    return f"{'https' if is_secure(scope) else 'http'}://{host}"


def same_origin(scope: Scope, trusted: list[str]) -> bool:
    """Did this request come from the app's own pages (or an origin CORS_ALLOW_ORIGINS names)?

    Browsers send `Sec-Fetch-Site` (and `Origin` on every POST): a page of another site
    cannot forge either. A request with neither (no browser sent it) is refused too.
    """
    origin = header(scope, b"origin")
    if origin is not None and (origin == own_origin(scope)
                               or ("*" not in trusted and origin in trusted)):
        return True
    return header(scope, b"sec-fetch-site") == "same-origin"

