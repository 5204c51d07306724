"""The gateway's runtime state, built whole at start-up: `runtime_of(request)` in the routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from owui.core.config import Settings
from owui.core.passwords import admission
from owui.core.tokens import Claims, InvalidToken, TokenVerifier
from owui.gateway import crud
from owui.gateway.administration import Administration
from owui.gateway.api_keys import ApiKeys
from owui.gateway.crud import API_KEY_PREFIX
from owui.gateway.proxy import Proxy
from owui.gateway.ratelimit import RateLimiter
from owui.gateway.revocations import Revocations
from owui.gateway.sockets import SocketProxy
from owui.gateway.webapp.build import locate
from owui.gateway.webapp.files import WebApp

if TYPE_CHECKING:  # openapi.py imports dispatch.py, which imports this module
    from owui.gateway.openapi import ApiDocument

log = logging.getLogger("owui.gateway")


class Accounts:
    """Whether any account exists (the web app's onboarding), read until one does."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._exist = False

    async def exist(self) -> bool:
        if not self._exist:
            async with self.sessions() as session:
                self._exist = await crud.any_user(session)
        return self._exist

    def created(self) -> None:
        self._exist = True


@dataclass(frozen=True, eq=False)
class Runtime:
    settings: Settings
    revocations: Revocations
    api_keys: ApiKeys
    limiter: RateLimiter
    proxy: Proxy
    verifier: TokenVerifier
    sockets: SocketProxy
    webapp: WebApp
    accounts: Accounts
    api_document: ApiDocument
    # Live settings, groups and permissions (the access header the proxy adds).
    admin: Administration
    # Sign-ins waiting for the password hasher (core/passwords.py).
    sign_ins: asyncio.Semaphore

    @classmethod
    def create(cls, settings: Settings, sessions: async_sessionmaker[AsyncSession],
               api_document: Callable[[Proxy], ApiDocument],
               admin: Administration) -> Runtime:
        """`api_document` makes the merged OpenAPI document, whose fetches go through the
        proxy's session."""
        proxy = Proxy(settings)
        sockets = SocketProxy(proxy, int(settings.max_json_size))
        revocations = Revocations(sessions, settings.revocation_sync_interval,
                                  on_change=sockets.close_revoked)
        api_keys = ApiKeys(sessions, settings.jwt_secret, revocations)
        webapp = WebApp(partial(locate, settings.owui_data_dir, settings.frontend_build_dir,
                                settings.static_dir))
        if not webapp.build.ready:
            log.warning("%s", webapp.build.problem)
        return cls(settings, revocations, api_keys, RateLimiter(settings), proxy,
                   TokenVerifier(settings.jwt_secret), sockets, webapp, Accounts(sessions),
                   api_document(proxy), admin, admission())

    async def start(self) -> None:
        await self.admin.start()
        await self.proxy.start()
        await self.revocations.start()

    async def stop(self) -> None:
        await self.revocations.stop()
        await self.admin.stop()
        await self.sockets.close_all()
        await self.proxy.close()

    async def authenticate(self, token: str) -> tuple[Claims, str] | None:
        """The caller's claims and the token to send upstream, or None when refused."""
        if token.startswith(API_KEY_PREFIX):
            if not self.admin.live["ENABLE_API_KEYS"]:  # the admin turned API keys off
                return None
            return await self.api_keys.resolve(token)
        try:
            claims = self.verifier.verify(token)
        except InvalidToken:
            return None
        if self.revocations.is_revoked(claims):
            return None
        return claims, token


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime
