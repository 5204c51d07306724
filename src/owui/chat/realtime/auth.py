"""Who a socket is. The upgrade (or polling request) passed the service's token check already
(`core.auth.TokenAuthMiddleware` put its claims in the ASGI scope; behind the gateway, that is
the user the gateway let in). The socket.io `auth.token` the web app sends must be valid too,
not pending, and name the same user: a socket never listens as someone else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socketio.exceptions import ConnectionRefusedError as Refused

from owui.core.auth import PENDING_DETAIL
from owui.core.tokens import Claims, InvalidToken, TokenVerifier

__all__ = ["Refused", "socket_user", "token_in", "upgrade_user"]


def upgrade_user(environ: Mapping[str, Any]) -> Claims | None:
    """The claims the service's token check found on the upgrade request."""
    scope = environ.get("asgi.scope") or {}
    user = (scope.get("state") or {}).get("user")
    return user if isinstance(user, Claims) else None


def token_in(auth: object) -> str | None:
    """`{token}` as the web app sends it (`auth: (cb) => cb({token: localStorage.token})`)."""
    token = auth.get("token") if isinstance(auth, dict) else None
    return token if isinstance(token, str) and token not in ("", "undefined", "null") else None


def verified(verifier: TokenVerifier, token: str | None) -> Claims:
    """The token's claims; Refused when it is missing, invalid, expired or pending."""
    if token is None:
        raise Refused("Not authenticated: send the token as auth.token.")
    try:
        claims = verifier.verify(token)
    except InvalidToken:
        raise Refused("Invalid or expired token.") from None
    if claims.role == "pending":
        raise Refused(PENDING_DETAIL)
    return claims


def socket_user(verifier: TokenVerifier, environ: Mapping[str, Any], auth: object) -> Claims:
    """The socket's user, or Refused saying why not."""
    claims = verified(verifier, token_in(auth))
    upgrade = upgrade_user(environ)
    if upgrade is None or upgrade.sub != claims.sub:
        raise Refused("auth.token is not the user this connection was opened as.")
    return claims
