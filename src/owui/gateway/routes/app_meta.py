"""The web app's public routes: `/api/config`, `/api/version`, `/api/changelog`, and Open
WebUI's `/health`, `/health/db` and `/ready`. They answer without a token (`/manifest.json` and
`/opensearch.xml` are the web app's files, served from its build); `/api/config` answers in full
to a signed-in caller (the front door puts the caller's claims in the request state when the
credential is good, else None)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

import owui
from owui.core.auth import CurrentUser
from owui.core.errors import error_response
from owui.gateway.live_app_config import public_overlay, signed_in_overlay
from owui.gateway.runtime import runtime_of
from owui.gateway.webapp.app_config import full_config, public_config
from owui.gateway.webapp.changelog import changelog

router = APIRouter(prefix="/api", tags=["app"])
outside = APIRouter(tags=["app"])  # Open WebUI's paths outside /api


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


@router.get("/version/updates")
async def get_app_latest_version(_user: CurrentUser) -> dict[str, str | None]:
    """owui does not look for new releases (no call out of the server): `latest` is the running
    version, as Open WebUI answers with its update check turned off."""
    return {"current": owui.__version__, "latest": owui.__version__}


@outside.get("/health")
async def health() -> dict[str, bool]:
    return {"status": True}


@outside.get("/health/db", responses={503: error_response("The database does not answer.")})
async def health_db(request: Request) -> dict[str, bool]:
    await request.app.state.db.ping()
    return {"status": True}


@outside.get("/ready", responses={503: error_response("Starting, or the database is down.")})
async def ready(request: Request) -> dict[str, bool]:
    if getattr(request.app.state, "runtime", None) is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Startup not complete.")
    try:
        await request.app.state.db.ping()
    except Exception as exc:  # any driver's error: not ready
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"Database not ready: {type(exc).__name__}.") from None
    return {"status": True}
