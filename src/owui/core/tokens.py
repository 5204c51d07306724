"""JWT issue and verify (HS256): the one credential every service checks."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from owui.core.config import Role

ALGORITHM = "HS256"
_REQUIRED = ["sub", "role", "jti", "exp", "iat"]
_ROLES = ("admin", "user", "pending")


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired or of an unknown role."""


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str
    role: Role
    jti: str
    exp: int
    iat: float
    # The user's display name when the token was issued (the gateway, which owns users, puts
    # it in), so that a service can write it (the author of a chat message) without asking the
    # gateway on the hot path. A name change shows in the next token, not in those already out;
    # None in a token that carries none (one minted by a script or a test).
    name: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_token(secret: str, sub: str, role: Role, expires_in: timedelta, *,
                name: str | None = None, **extra: object) -> tuple[str, int]:
    """Return the token and its expiry as a Unix timestamp. `name`: the user's display name
    (see Claims.name)."""
    now = time.time()
    exp = int(now + expires_in.total_seconds())
    payload = {"sub": sub, "role": role, "jti": uuid.uuid4().hex, "iat": now, "exp": exp, **extra}
    if name is not None:
        payload["name"] = name
    return jwt.encode(payload, secret, algorithm=ALGORITHM), exp


def verify_token(secret: str, token: str) -> Claims:
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM],
                             options={"require": _REQUIRED})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if payload["role"] not in _ROLES:
        raise InvalidToken(f"unknown role {payload['role']!r}")
    name = payload.get("name")
    return Claims(str(payload["sub"]), payload["role"], str(payload["jti"]),
                  int(payload["exp"]), float(payload["iat"]),
                  name if isinstance(name, str) else None)


class TokenVerifier:
    """`verify_token` with a bounded cache of tokens already verified, checked for expiry on
    every use: the HMAC and JSON work is done once per token, not once per request."""

    def __init__(self, secret: str, max_size: int = 4096) -> None:
        self.secret = secret
        self.max_size = max_size
        self._verified: dict[str, Claims] = {}

    def verify(self, token: str) -> Claims:
        claims = self._verified.get(token)
        if claims is not None:
            if claims.exp > time.time():
                return claims
            del self._verified[token]
            raise InvalidToken("Signature has expired")
        claims = verify_token(self.secret, token)
        if len(self._verified) >= self.max_size:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = claims
        return claims


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
