"""The gateway's front door, as raw ASGI: authenticate, rate-limit, check the body, then
forward to a service or hand over to the gateway's own routes.

Paths outside the API (`/`, `/static/*`, `/_app/*`, ...) are the web app's files, served
without a token and without rate limits (a page load fetches a hundred of them). The public
app routes (`/api/config`, `/api/version`, `/api/changelog`) take a credential when one is
good and answer without one. Every other path needs a credential: the bearer header, or the
web app's `token` cookie (then a state-changing request must come from the app's own origin).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from owui.core.asgi import header, send_error
from owui.core.auth import PENDING_DETAIL, PUBLIC_PATHS, pending_blocked
from owui.core.jsonbody import replay
from owui.core.tokens import Claims
from owui.gateway.credentials import (
    CROSS_SITE_DETAIL,
    SAFE_METHODS,
    Credential,
    credential_of,
    same_origin,
)
from owui.gateway.crud import API_KEY_PREFIX
from owui.gateway.guard import BodyRejected, checked_body
from owui.gateway.proxy import is_identity_header
from owui.gateway.ratelimit import cost_of
from owui.gateway.runtime import Runtime
from owui.gateway.signin_limits import SIGNIN_PATH, AccountGuard, account_of
from owui.gateway.sockets import reject

SIGN_IN_PATHS = frozenset({"/api/v1/auths/signin", "/api/v1/auths/signup"})
APP_PUBLIC_PATHS = frozenset({"/api/config", "/api/version", "/api/changelog", "/health",
                              "/health/db", "/ready"})
# Everything under these is the API (locked); any other path is the web app's.
API_PREFIXES = ("/api", "/ollama", "/openai", "/ws", "/oauth")
SOCKETS = "/ws/"  # the only paths a WebSocket may be opened to (socket.io, at chat)
_CHALLENGE = [(b"www-authenticate", b"Bearer")]
_REFUSED = "Invalid, expired or revoked credentials."


class GatewayMiddleware:
    """In front of the gateway's own FastAPI app, whose state holds the `Runtime`."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await self._socket(self.app.state.runtime, scope, receive, send)
            return
        path = scope["path"]
        if kind != "http" or path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        runtime: Runtime = self.app.state.runtime
        if not path.startswith(API_PREFIXES) and path not in APP_PUBLIC_PATHS:
            await runtime.webapp(scope, receive, send)
            return
        credential = credential_of(scope)
        if path in APP_PUBLIC_PATHS:
            await self._public(runtime, scope, receive, send, credential)
            return
        claims = upstream_token = None
        if credential is not None:
            found = await runtime.authenticate(credential.token)
            if found is None:
                await send_error(send, 401, _REFUSED, _CHALLENGE)
                return
            claims, upstream_token = found
            if credential.from_cookie and scope["method"] not in SAFE_METHODS and not \
                    same_origin(scope, runtime.settings.cors_allow_origins):
                await send_error(send, 403, CROSS_SITE_DETAIL)
                return
        elif path not in SIGN_IN_PATHS:
            await send_error(send, 401, "Not authenticated.", _CHALLENGE)
            return
        if await self._limited(runtime, scope, send, claims):
            return
        if claims is not None and pending_blocked(claims, path):
            await send_error(send, 403, PENDING_DETAIL)
            return
        try:
            body = await checked_body(scope, receive, int(runtime.settings.max_body_size),
                                      int(runtime.settings.max_json_size))
        except BodyRejected as exc:
            await send_error(send, exc.status, exc.detail)
            return
        if path == SIGNIN_PATH and (email := account_of(body)) is not None:
            guard = AccountGuard(runtime.limiter, runtime.settings.jwt_secret, scope, email)
            if await guard.refused(send):
                return
            send = guard.watching(send)
        route = runtime.proxy.route(path)
        if route is not None and route.base_url is not None:
            assert upstream_token is not None and claims is not None
            # The user's groups and permissions, signed for the service (core/access.py).
            scope["state"]["access"] = runtime.admin.access.header_for(claims.sub)
            await runtime.proxy.forward(scope, receive, send, route, upstream_token, body,
                                        header(scope, b"content-length"))
            return
        self._own_route_scope(scope, claims, upstream_token)
        await self.app(scope, replay(body, receive) if body else receive, send)

    async def _public(self, runtime: Runtime, scope: Scope, receive: Receive, send: Send,
                      credential: Credential | None) -> None:
        """A public app route: the caller's claims when the credential is good, else none."""
        found = await runtime.authenticate(credential.token) if credential else None
        claims, token = found if found else (None, None)
        if await self._limited(runtime, scope, send, claims):
            return
        self._own_route_scope(scope, claims, token)
        await self.app(scope, receive, send)

    async def _socket(self, runtime: Runtime, scope: Scope, receive: Receive,
                      send: Send) -> None:
        """A WebSocket upgrade: only to a service's socket path, and only authenticated."""
        route = runtime.proxy.route(scope["path"])
        if route is None or route.base_url is None or not scope["path"].startswith(SOCKETS):
            await reject(scope, send, 404, f"No socket at {scope['path']}.")
            return
        credential = credential_of(scope) or _query_token(scope)
        found = await runtime.authenticate(credential.token) if credential else None
        if found is None:
            await reject(scope, send, 401, _REFUSED if credential else "Not authenticated.",
                         _CHALLENGE)
            return
        claims, token = found
        assert credential is not None
        if credential.from_cookie and not same_origin(scope, runtime.settings.cors_allow_origins):
            await reject(scope, send, 403, CROSS_SITE_DETAIL)
            return
        if pending_blocked(claims, scope["path"]):
            await reject(scope, send, 403, PENDING_DETAIL)
            return
        retry_after = await _retry_after(runtime, scope, claims)
        if retry_after is not None:
            await reject(scope, send, 429, f"Too many requests; retry in {retry_after} s.",
                         [(b"retry-after", str(retry_after).encode())])
            return
        key_id = (runtime.api_keys.key_id_of(credential.token)
                  if credential.token.startswith(API_KEY_PREFIX) else None)
        await runtime.sockets.serve(scope, receive, send, claims, token, key_id)

    @staticmethod
    def _own_route_scope(scope: Scope, claims: Claims | None, token: str | None) -> None:
        """What the gateway's own routes see: no identity header from outside, the
        credential (wherever it came from) as the bearer, the claims in the state."""
        headers = [(k, v) for k, v in scope["headers"] if not is_identity_header(k)
                   or k in (b"content-length", b"host")]
        if token is not None:
            headers.append((b"authorization", b"Bearer " + token.encode()))
        scope["headers"] = headers
        state = scope.setdefault("state", {})
        state["user"], state["token"] = claims, token

    async def _limited(self, runtime: Runtime, scope: Scope, send: Send,
                       claims: Claims | None) -> bool:
        retry_after = await _retry_after(runtime, scope, claims)
        if retry_after is None:
            return False
        await send_error(send, 429, f"Too many requests; retry in {retry_after} s.",
                         [(b"retry-after", str(retry_after).encode())])
        return True


async def _retry_after(runtime: Runtime, scope: Scope, claims: Claims | None) -> int | None:
    """Counts the request against the flood guard, then against its budget if it has one
    (sign-ins per address, costly calls per user): the first refusal's wait, else None."""
    limiter = runtime.limiter
    client = scope.get("client")
    address = client[0] if client else "unknown"
    who = claims.sub if claims else address
    retry_after = await limiter.retry_after(
        limiter.default, "user:" + who if claims else "addr:" + who)
    if retry_after is not None:
        return retry_after
    path = scope["path"]
    if path in SIGN_IN_PATHS:
        return await limiter.retry_after(limiter.signin, "signin:" + address)
    cost = cost_of(scope.get("method", "GET"), path)  # no method: a socket
    if cost is not None:
        return await limiter.retry_after(limiter.costs[cost], f"{cost}:{who}")
    return None


def _query_token(scope: Scope) -> Credential | None:
    """`?token=...` on a socket upgrade, for a client that holds no cookie."""
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return Credential(values[0], from_cookie=False) if values and values[0] else None

