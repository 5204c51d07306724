"""API keys (`Bearer sk-...`) turned into short-lived JWTs for the upstream call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core.tokens import Claims, issue_token, verify_token
from owui.gateway import crud
from owui.gateway.revocations import Revocations

MINTED_TOKEN_LIFETIME = timedelta(minutes=5)
# A key's user and role are read again this often; revocations apply at once regardless.
CACHE_SECONDS = 60.0


@dataclass(slots=True)
class _Minted:
    key_id: str
    claims: Claims
    token: str
    minted_at: float
    refresh_at: float


class ApiKeys:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], secret: str,
                 revocations: Revocations) -> None:
        self.sessions = sessions
        self.secret = secret
        self.revocations = revocations
        self._cache: dict[str, _Minted] = {}

    async def resolve(self, key: str) -> tuple[Claims, str] | None:
        """The claims and upstream token for a key, or None when the key is unknown."""
        digest = crud.hash_api_key(key)
        now = time.time()
        minted = self._cache.get(digest)
        if minted and now < minted.refresh_at and not self.revocations.is_key_revoked(
                minted.key_id, minted.claims.sub, minted.minted_at):
            return minted.claims, minted.token
        self._cache.pop(digest, None)
        async with self.sessions() as session:
            found = await crud.find_api_key(session, key)
            if found is None:
                return None
            api_key, user = found
            api_key.last_used_at = int(now)
            await session.commit()
        # The user's name as of now (Claims.name): a change shows within CACHE_SECONDS.
        token, _exp = issue_token(self.secret, user.id, user.role,
                                  MINTED_TOKEN_LIFETIME, name=user.name, api_key=api_key.id)
        claims = verify_token(self.secret, token)
        refresh_at = now + min(CACHE_SECONDS, MINTED_TOKEN_LIFETIME.total_seconds() / 2)
        self._cache[digest] = _Minted(api_key.id, claims, token, claims.iat, refresh_at)
        return claims, token

    def key_id_of(self, key: str) -> str | None:
        """The id of a key `resolve` accepted (its minted token is short-lived; the key is
        what a long-lived socket is checked against)."""
        minted = self._cache.get(crud.hash_api_key(key))
        return minted.key_id if minted else None
