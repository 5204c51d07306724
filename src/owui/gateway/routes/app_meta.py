"""The web app's public routes: `/api/config`, `/api/version`, `/api/changelog`. They answer
without a token; `/api/config` answers in full to a signed-in caller (the front door puts the
caller's claims in the request state when the credential is good, else None)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

import owui
from owui.gateway.live_app_config import public_overlay, signed_in_overlay
from owui.gateway.runtime import runtime_of
from owui.gateway.webapp.app_config import full_config, public_config
from owui.gateway.webapp.changelog import changelog

router = APIRouter(prefix="/api", tags=["app"])


@router.get("/config")
async def get_app_config(request: Request) -> dict[str, Any]:
    """The public part before sign-in (with `onboarding: true` while no account exists), the
    whole configuration for a signed-in user."""
    runtime = runtime_of(request)
    claims = request.scope.get("state", {}).get("user")
    if claims is not None:
        config = full_config(runtime.settings, claims.role)
        return signed_in_overlay(config, runtime.admin, claims.sub)
    onboarding = not await runtime.accounts.exist()
    return public_overlay(public_config(runtime.settings, onboarding=onboarding),
                          runtime.admin.live)


@router.get("/version")
async def get_app_version() -> dict[str, str]:
    """owui's own version (the web app reloads when it changes)."""
    return {"version": owui.__version__, "deployment_id": ""}


@router.get("/changelog")
async def get_app_changelog() -> dict[str, dict[str, Any]]:
    """owui's own changes, in Open WebUI's shape (the app's "What's New" dialog)."""
    return changelog()
