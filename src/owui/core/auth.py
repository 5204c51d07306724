"""Token verification on every non-public route, and the dependencies routes use for the user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from starlette.types import ASGIApp, Receive, Scope, Send

from owui.core.access import ACCESS_HEADER_BYTES, forget_header, remember_header
from owui.core.asgi import header, send_error
from owui.core.tokens import Claims, InvalidToken, TokenVerifier, bearer_token

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
                          "/docs/oauth2-redirect", "/redoc"})
PENDING_ALLOWED_PREFIX = "/api/v1/auths"
PENDING_DETAIL = "Your account is pending approval by an administrator."
ADMIN_ONLY_DETAIL = "This action needs an admin account."
_CHALLENGE = [(b"www-authenticate", b"Bearer")]


def pending_blocked(claims: Claims, path: str) -> bool:
    return claims.role == "pending" and not path.startswith(PENDING_ALLOWED_PREFIX)


class TokenAuthMiddleware:
    """Answers 401 to anything without a valid JWT, even a path that does not exist."""

    def __init__(self, app: ASGIApp, secret: str, public_paths: frozenset[str] = PUBLIC_PATHS):
        self.app = app
        self.verifier = TokenVerifier(secret)
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or scope["path"] in self.public_paths:
            await self.app(scope, receive, send)
            return
        token = bearer_token(header(scope, b"authorization"))
        try:
            claims = self.verifier.verify(token) if token else None
        except InvalidToken:
            claims = None
        if claims is None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            detail = "Not authenticated" if token is None else "Invalid or expired token"
            await send_error(send, status.HTTP_401_UNAUTHORIZED, detail, _CHALLENGE)
            return
        if pending_blocked(claims, scope["path"]):
            await send_error(send, status.HTTP_403_FORBIDDEN, PENDING_DETAIL)
            return
        scope.setdefault("state", {})["user"] = claims
        # The gateway's signed access header, passed on by core.client's calls (core/access.py).
        forwarded = remember_header(header(scope, ACCESS_HEADER_BYTES))
        try:
            await self.app(scope, receive, send)
        finally:
            forget_header(forwarded)


# Async, so that FastAPI calls them on the event loop rather than in a worker thread.
async def current_user(request: Request) -> Claims:
    claims = request.scope.get("state", {}).get("user")
    if claims is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated",
                            headers={"WWW-Authenticate": "Bearer"})
    return claims


async def require_admin(user: Annotated[Claims, Depends(current_user)]) -> Claims:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, ADMIN_ONLY_DETAIL)
    return user


async def current_token(request: Request) -> str:
    """The caller's bearer token, for a route that calls another service as the caller."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:  # the auth middleware let it in, so this does not happen
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated")
    return token


CurrentUser = Annotated[Claims, Depends(current_user)]
AdminUser = Annotated[Claims, Depends(require_admin)]
UserToken = Annotated[str, Depends(current_token)]
