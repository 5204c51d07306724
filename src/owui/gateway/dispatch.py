"""The gateway's front door, as raw ASGI: authenticate, rate-limit, check the body, then
forward to a service or hand over to the gateway's own routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Receive, Scope, Send

from owui.core.asgi import header, send_error
from owui.core.auth import PENDING_DETAIL, PUBLIC_PATHS, pending_blocked
from owui.core.config import Settings
from owui.core.tokens import Claims, InvalidToken, TokenVerifier, bearer_token
from owui.gateway.api_keys import ApiKeys
from owui.gateway.crud import API_KEY_PREFIX
from owui.gateway.guard import BodyRejected, checked_body, replay
from owui.gateway.proxy import Proxy, is_identity_header
from owui.gateway.ratelimit import RateLimiter
from owui.gateway.revocations import Revocations

SIGN_IN_PATHS = frozenset({"/api/v1/auths/signin", "/api/v1/auths/signup"})
_CHALLENGE = [(b"www-authenticate", b"Bearer")]


@dataclass
class Gateway:
    """What the front door needs, made at start-up."""

    settings: Settings
    revocations: Revocations
    api_keys: ApiKeys
    limiter: RateLimiter
    proxy: Proxy
    verifier: TokenVerifier

    @classmethod
    def create(cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Gateway:
        revocations = Revocations(sessions, settings.revocation_sync_interval)
        return cls(settings, revocations, ApiKeys(sessions, settings.jwt_secret, revocations),
                   RateLimiter(settings), Proxy(settings), TokenVerifier(settings.jwt_secret))

    async def start(self) -> None:
        await self.revocations.start()
        await self.proxy.start()

    async def stop(self) -> None:
        await self.revocations.stop()
        await self.proxy.close()

    async def authenticate(self, token: str) -> tuple[Claims, str] | None:
        """The caller's claims and the token to send upstream, or None when refused."""
        if token.startswith(API_KEY_PREFIX):
            return await self.api_keys.resolve(token)
        try:
            claims = self.verifier.verify(token)
        except InvalidToken:
            return None
        if self.revocations.is_revoked(claims):
            return None
        return claims, token


class GatewayMiddleware:
    """In front of the gateway's own FastAPI app, whose state holds the `Gateway`."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        gateway: Gateway = self.app.state.gateway
        path = scope["path"]
        token = bearer_token(header(scope, b"authorization"))
        claims = upstream_token = None
        if token is not None:
            found = await gateway.authenticate(token)
            if found is None:
                await send_error(send, 401, "Invalid, expired or revoked credentials.",
                                 _CHALLENGE)
                return
            claims, upstream_token = found
        elif path not in SIGN_IN_PATHS:
            await send_error(send, 401, "Not authenticated.", _CHALLENGE)
            return
        if await self._limited(gateway, scope, send, claims):
            return
        if claims is not None and pending_blocked(claims, path):
            await send_error(send, 403, PENDING_DETAIL)
            return
        try:
            body = await checked_body(scope, receive, int(gateway.settings.max_body_size),
                                      int(gateway.settings.max_json_size))
        except BodyRejected as exc:
            await send_error(send, exc.status, exc.detail)
            return
        route = gateway.proxy.route(path)
        if route is not None and route.base_url is not None:
            assert upstream_token is not None
            await gateway.proxy.forward(scope, receive, send, route, upstream_token, body,
                                        header(scope, b"content-length"))
            return
        scope["headers"] = [(k, v) for k, v in scope["headers"] if not is_identity_header(k)
                            or k in (b"authorization", b"content-length", b"host")]
        state = scope.setdefault("state", {})
        state["user"], state["token"] = claims, upstream_token
        await self.app(scope, replay(body, receive) if body else receive, send)

    async def _limited(self, gateway: Gateway, scope: Scope, send: Send,
                       claims: Claims | None) -> bool:
        limiter = gateway.limiter
        client = scope.get("client")
        address = client[0] if client else "unknown"
        checks = [(limiter.default, f"user:{claims.sub}" if claims else f"addr:{address}")]
        if scope["path"] in SIGN_IN_PATHS:
            checks.append((limiter.signin, f"signin:{address}"))
        for item, key in checks:
            retry_after = await limiter.retry_after(item, key)
            if retry_after is not None:
                await send_error(send, 429, f"Too many requests; retry in {retry_after} s.",
                                 [(b"retry-after", str(retry_after).encode())])
                return True
        return False
